"""Search results link only where the user may go: the auditor has no chart access."""

from __future__ import annotations

from django.urls import reverse

from tests import factories
from tests.web.conftest import signed_in


def test_auditor_search_results_link_to_the_access_log_not_the_chart(
    db, facility, chart_patient
):
    auditor = factories.user("aud1", "auditor", facilities=[facility])
    client = signed_in(auditor)
    html = client.get(reverse("web:search"), {"name": "okaf"}).content.decode()
    chart_url = reverse("web:chart", kwargs={"patient_id": chart_patient.pk})
    log_url = reverse("web:access_log", kwargs={"patient_id": chart_patient.pk})
    assert "OKAFOR, Adaeze N" in html
    assert f'href="{chart_url}"' not in html
    assert f'href="{log_url}"' in html
    assert client.get(log_url).status_code == 200
    assert client.get(chart_url).status_code == 403


def test_him_specialist_search_results_still_link_to_the_chart(
    him_client, chart_patient
):
    html = him_client.get(reverse("web:search"), {"name": "okaf"}).content.decode()
    chart_url = reverse("web:chart", kwargs={"patient_id": chart_patient.pk})
    assert f'<a href="{chart_url}">OKAFOR, Adaeze N</a>' in html
