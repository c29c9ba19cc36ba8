"""R-RC-7: the delinquency rate month by month and per facility and service, and
delinquency over the API (history, breakdown, aging, suspension list as JSON, CSV
and PDF, letters written and read)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from recordroom.audit.models import AuditEvent
from recordroom.completion import services
from recordroom.completion.delinquency import delinquent_records
from recordroom.completion.history import monthly_history, rate_breakdown
from recordroom.completion.models import Deficiency, DeficiencyRule
from tests.api.conftest import api_for

from .charts import SYSTEM, visit

AS_OF = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _at(month, day):
    return datetime(2026, month, day, 10, 0, tzinfo=UTC)


def _record(person, facility, who, discharged, opened=None, closed=None):
    enc = visit(patient=person, facility=facility, attending=who,
                admit=discharged - timedelta(days=2), discharge=discharged)  # fmt: skip
    if opened:
        d = services.add_deficiency(actor=SYSTEM, encounter=enc, kind="signature",
                                    description="Signature: discharge summary",
                                    provider=who)  # fmt: skip
        Deficiency.objects.filter(pk=d.pk).update(
            opened_at=opened, assigned_at=opened, closed_at=closed,
            status="closed" if closed else "open")  # fmt: skip
    return enc


@pytest.fixture
def months(db, person, facility, attending, surgeon):
    """Sep: 4 discharges, Oct: 5, Nov: 2; delinquent at the ends of Sep, Oct and Nov:
    one record each (C from August, A from September, B from October)."""
    DeficiencyRule.objects.update(active=False)
    surgeon.specialty = "Surgery"
    surgeon.save()
    _record(person, facility, attending, _at(8, 1), _at(8, 2), _at(10, 20))  # C
    _record(person, facility, attending, _at(9, 5), _at(9, 6), _at(11, 15))  # A
    for day in (8, 12, 20):
        _record(person, facility, attending, _at(9, day))
    _record(person, facility, surgeon, _at(10, 10), _at(10, 11))  # B: still open
    for day in (3, 5, 7, 9):
        _record(person, facility, attending, _at(10, day))
    for day in (4, 18):
        _record(person, facility, attending, _at(11, day))


def test_r_rc_7_monthly_history_counts_each_months_end(months, facility):
    points = monthly_history(facility=facility, months=3, as_of=AS_OF)
    assert [(p.start.month, p.discharges, p.delinquent, str(p.rate_pct))
            for p in points] == [(9, 4, 1, "25.00"), (10, 5, 1, "20.00"),
                                 (11, 2, 1, "50.00")]  # fmt: skip
    # the same count as the delinquency rate's, month end by month end
    assert [p.delinquent for p in points] == [
        delinquent_records(at=p.end, facility=facility).count() for p in points]
    surgery = monthly_history(facility=facility, service="surgery", months=3,
                              as_of=AS_OF)  # fmt: skip
    assert [(p.discharges, p.delinquent, p.rate_pct) for p in surgery] == [
        (0, 0, None), (1, 0, 0), (0, 1, None)]  # fmt: skip


def test_r_rc_7_rate_per_facility_and_service(months, facility):
    rows = rate_breakdown(facilities=[facility], as_of=AS_OF, method="tjc",
                          frequency="monthly", count=3)  # fmt: skip
    assert [(r.facility.code, r.service) for r in rows] == [("NORTH", ""),
                                                             ("NORTH", "Surgery")]
    whole, surgery = rows
    # 3 delinquent over 3 months = 1; 11 discharges over 3 months = 3.67 -> 27.27 %
    assert (str(whole.rate.average_delinquent),
            str(whole.rate.average_monthly_discharges),
            str(whole.rate.rate_pct)) == ("1.00", "3.67", "27.27")  # fmt: skip
    assert str(surgery.rate.rate_pct) == "100.00" and surgery.rate.over_threshold


def test_r_rc_7_delinquency_over_the_api(months, him, facility, settings):
    settings.COMPLETION_SUSPENSION_GRACE_DAYS = 0
    api = api_for(him)
    history = api.get("/completion/delinquency/history", months=2).json()
    assert len(history) == 2 and {"discharges", "delinquent", "rate_pct"} <= set(
        history[0])
    bad = api.get("/completion/delinquency/history", months=500)
    assert bad.status_code == 422 and "give 1 to 120" in bad.json()["message"]
    rows = api.get("/completion/delinquency/breakdown").json()
    assert [(r["facility"], r["service"]) for r in rows] == [("NORTH", ""),
                                                             ("NORTH", "Surgery")]
    aging = api.get("/completion/aging").json()
    assert [a["since_discharge"] for a in aging] == [0, 0, 1]  # B: 58 days open
    listed = api.get("/completion/suspension-list").json()
    assert [(r["provider"], r["records"]) for r in listed] == [("Sam Surgeon, MD", 1)]
    text = api.get("/completion/suspension-list", format="csv").content.decode()
    assert list(csv.DictReader(io.StringIO(text)))[0]["provider"] == "Sam Surgeon, MD"
    pdf = api.get("/completion/suspension-list", format="pdf")
    assert pdf["Content-Type"] == "application/pdf"
    words = " ".join(" ".join(p.extract_text() for p in PdfReader(
        io.BytesIO(pdf.content)).pages).split())  # fmt: skip
    assert "Sam Surgeon, MD" in words and "Suspension list" in words
    bad = api.get("/completion/suspension-list", format="xls")
    assert bad.status_code == 422 and "use json, csv, pdf" in bad.json()["message"]
    assert AuditEvent.objects.filter(action="completion.suspension_list").count() == 3
    assert api.get("/completion/aging", facility="SOUTH").status_code == 404


def test_r_rc_7_letters_over_the_api(months, him, facility, settings):
    settings.EMAIL_HOST = ""
    api = api_for(him)
    run = api.post("/completion/letters", {"send": True})
    assert run.status_code == 201, run.content
    body = run.json()
    assert [(lt["provider"], lt["level"], lt["status"]) for lt in body["written"]] == [
        ("Sam Surgeon, MD", "suspension", "written")]  # fmt: skip
    assert body["not_sent"] == 1
    listed = api.get("/completion/letters").json()
    assert [lt["id"] for lt in listed] == [body["written"][0]["id"]]
    pdf = api.get(f"/completion/letters/{listed[0]['id']}/content")
    assert pdf.content.startswith(b"%PDF")
    missing = api.get("/completion/letters/00000000-0000-0000-0000-000000000000/content")
    assert missing.status_code == 404
