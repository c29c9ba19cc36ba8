"""R-RC-7 pages: the chart-completion dashboard with its SVG charts, the suspension
list (page, CSV, PDF), letters written from the page, and the worklists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.completion import services
from recordroom.completion.models import Deficiency, DeficiencyRule, ProviderLetter
from recordroom.records import services as records
from tests import factories

from .conftest import signed_in


@pytest.fixture
def delinquent(db, facility):
    """Two discharges 40 and 50 days ago, each with an open deficiency of Dr Late's,
    assigned at discharge; one discharge 2 days ago, not analysed."""
    DeficiencyRule.objects.update(active=False)
    late = factories.provider("Late", "Lena")
    late.specialty = "Cardiology"
    late.save()
    patient = factories.patient(facility=facility, family="Okafor", given="Ada")
    now = timezone.now()
    for days in (40, 50, 2):
        enc = records.record_encounter(
            actor=factories.SYSTEM, patient=patient, facility=facility,
            account_number=f"D{days:06d}", encounter_class="IMP",
            admit_at=now - timedelta(days=days + 3),
            discharge_at=now - timedelta(days=days), attending=late)  # fmt: skip
        if days > 2:
            d = services.add_deficiency(actor=factories.SYSTEM, encounter=enc,
                                        kind="signature", provider=late,
                                        description="Signature: discharge summary")  # fmt: skip
            at = now - timedelta(days=days - 1)
            Deficiency.objects.filter(pk=d.pk).update(opened_at=at, assigned_at=at)
    return late


def test_r_rc_7_dashboard_draws_the_rate_history_and_aging(delinquent, him):
    page = signed_in(him).get("/completion/dashboard")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") == 3 and 'id="rate-chart"' in html
    assert "<title id=\"rate-chart-t\">Delinquency rate by month</title>" in html
    assert 'class="threshold"' in html and "threshold 50.00%" in html
    assert "Cardiology" in html  # the service row of the breakdown
    # the table names the months the charts draw (measured in UTC months)
    now = timezone.now()
    first = datetime(now.year - 1, now.month, 1, tzinfo=UTC).strftime("%B %Y")
    history = html[html.index('id="history"'):]
    assert history.index("<tbody><tr><td>") == history.index(f"<tbody><tr><td>{first}")
    # aging: 2 open deficiencies, both in the 30+ days bucket since discharge
    assert "30+ days</td><td class=\"num\">2</td>" in html
    service = signed_in(him).get("/completion/dashboard?facility=NORTH&service=Cardiology")
    assert service.status_code == 200 and "service Cardiology" in service.content.decode()
    assert signed_in(him).get("/completion/dashboard?facility=SOUTH").status_code == 404


def test_r_rc_7_suspension_list_page_csv_pdf_and_letters(delinquent, him, settings):
    settings.EMAIL_HOST = ""
    client = signed_in(him)
    html = client.get("/completion/suspension-list").content.decode()
    assert "Lena Late, MD" in html and "<td class=\"num\">2</td>" in html
    csv = client.get("/completion/suspension-list?format=csv")
    assert csv["Content-Type"] == "text/csv"
    assert "Lena Late, MD" in csv.content.decode()
    pdf = client.get("/completion/suspension-list?format=pdf")
    assert pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="completion.suspension_list").count() == 3
    done = client.post("/completion/letters", {"send": "1"}, follow=True)
    assert "1 letter written, 0 sent by e-mail, 0 failed, 1 to print" in (
        done.content.decode())
    letter = ProviderLetter.objects.get()
    assert letter.level == "suspension" and letter.records == 2
    opened = client.get(f"/completion/letters/{letter.pk}")
    assert opened["Content-Type"] == "application/pdf"


def test_chart_worklists_page_oldest_first(delinquent, him):
    client = signed_in(him)
    # analysed at discharge; the two hand-added deficiencies keep theirs deficient
    html = client.get("/completion/charts?state=deficient").content.decode()
    assert html.index("D000050") < html.index("D000040") and "D000002" not in html
    done = client.get("/completion/charts?state=complete").content.decode()
    assert "D000002" in done and "D000040" not in done
    assert AuditEvent.objects.filter(action="completion.view").exists()
    empty = client.get("/completion/charts?state=awaiting").content.decode()
    assert "No chart on this list." in empty
