"""The chart pages long encounter and document lists by keyset (newest first)."""

from django.urls import reverse

from recordroom.web import views_chart
from tests import factories


def test_chart_pages_encounters_and_documents(
    him_client, chart_patient, facility, monkeypatch
):
    monkeypatch.setattr(views_chart, "CHART_PAGE", 2)
    for days, account in ((30, "V-OLD"), (20, "V-MID"), (10, "V-NEW")):
        enc = factories.encounter(
            patient=chart_patient, facility=facility, account=account, days_ago=days
        )
        factories.document(patient=chart_patient, facility=facility, encounter=enc)
    url = reverse("web:chart", kwargs={"patient_id": chart_patient.pk})
    first = him_client.get(url).content.decode()
    assert (
        "V-NEW" in first
        and "V-MID" in first
        and "V-OLD" not in first.split("Documents")[0]
    )
    assert "Encounters (3)" in first and "Documents (3)" in first
    assert "?encounters_after=" in first and "?documents_after=" in first
    cursor = first.split("?encounters_after=")[1].split("#")[0]
    older = him_client.get(url, {"encounters_after": cursor}).content.decode()
    section = older.split('id="encounters"')[1].split('id="documents"')[0]
    assert "V-OLD" in section and "V-NEW" not in section
    assert "Back to the newest" in older
    bad = him_client.get(url, {"encounters_after": "not-an-id"})
    assert bad.status_code == 422
