"""`recordroom roi list` and `recordroom roi show`, in-process on the test database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from tests import factories
from tests.factories import facility_today
from tests.release.conftest import request_in
from typer.testing import CliRunner

from recordroom.audit.models import AuditEvent
from recordroom.cli.app import app
from recordroom.kernel import clock
from recordroom.release.requests import log_request

runner = CliRunner(env={"COLUMNS": "200"})


def _request(patient, **over):
    attorney = {"requester_type": "attorney", "requester_name": "Ortega & Lane LLP",
                "delivery": "mail", "requester_address": "1 Court Sq"}  # fmt: skip
    return log_request(
        actor=factories.SYSTEM, data=request_in(patient, **attorney | over)
    )


def test_roi_list_nearest_deadline_first_and_overdue_only(db, patient):
    fresh = _request(patient)
    late = _request(patient, received_on=facility_today() - timedelta(days=33))
    listed = runner.invoke(app, ["roi", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.index(late.number) < listed.output.index(fresh.number)
    assert "2 requests, 1 overdue" in listed.output and "OVERDUE 3" in listed.output
    assert "NÚÑEZ, José" in listed.output
    only = runner.invoke(app, ["roi", "list", "--overdue"])
    assert late.number in only.output and fresh.number not in only.output
    read = AuditEvent.objects.filter(action="chart.open", channel="cli").latest("id")
    assert json.loads(read.detail) == {"worklist": "release", "listed": True}


def test_roi_show_one_request(db, patient):
    req = _request(patient, document_types=["18842-5"], entire_record=False)
    shown = runner.invoke(app, ["roi", "show", req.number.lower()])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert req.number in text and "Ortega & Lane LLP" in text
    assert "types 18842-5" in text and "30 days left" in text
    assert "basis 1 defect(s): authorization (R-AUTH-1)" in text
    read = AuditEvent.objects.filter(action="chart.open", channel="cli").latest("id")
    assert read.patient_id == str(patient.pk)
    missing = runner.invoke(app, ["roi", "show", "ROI-1999-000001"])
    assert (
        missing.exit_code == 2
        and "no release request 'ROI-1999-000001'" in missing.output
    )


def test_r_acc_2_roi_list_counts_days_on_the_facilitys_calendar(db, patient):
    with clock.frozen(datetime(2026, 11, 6, 17, tzinfo=UTC)):
        req = _request(patient, received_on=date(2026, 11, 6))  # due December 6
    # 23:30 on December 6 in New York: due today, not overdue (UTC says December 7)
    with clock.frozen(datetime(2026, 12, 7, 4, 30, tzinfo=UTC)):
        listed = runner.invoke(app, ["roi", "list", "--overdue"])
        assert req.number not in listed.output, listed.output
        shown = runner.invoke(app, ["roi", "show", req.number])
    assert "2026-12-06" in shown.output and "overdue" not in shown.output.lower()
