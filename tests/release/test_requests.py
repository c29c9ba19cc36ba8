"""Logging release requests: due dates by rule, the one extension, refusals named
and audited, the aging worklist."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.release import requests as rq
from recordroom.release.models import ReleaseRequest
from tests.factories import facility_today
from tests.release.conftest import request_in


def test_r_acc_2_a_patients_request_is_due_in_30_days(make_request, patient):
    req = make_request(patient, received_on=facility_today() - timedelta(days=3))
    assert req.due_on == facility_today() + timedelta(days=27)
    assert req.deadline_rule == "R-ACC-2: 30 + 30 days"
    assert (
        req.number.startswith(f"ROI-{facility_today().year}-")
        and req.status == "received"
    )
    event = AuditEvent.objects.filter(action="release.request_create").latest("id")
    assert event.patient_id == str(patient.pk)
    assert json.loads(event.detail)["number"] == req.number


def test_r_acc_2p_the_proposed_15_day_rule_is_off_unless_switched_on(
    make_request, patient, settings
):
    assert make_request(patient).due_on == facility_today() + timedelta(days=30)
    settings.ROI_DEADLINE_PROFILE = "proposed-15"
    req = make_request(patient)
    assert req.due_on == facility_today() + timedelta(days=15)
    assert req.deadline_rule.startswith("R-ACC-2P")
    # a third party has no proposed row: the house default applies
    other = make_request(patient, requester_type="attorney", requester_name="Law LLP")
    assert other.due_on == facility_today() + timedelta(days=30)


def test_a_state_rule_for_a_requester_type_wins(make_request, patient):
    from recordroom.release.models import DeadlineRule

    DeadlineRule.objects.create(state="TX", requester_type="attorney", days=15,
                                rule="state rule")  # fmt: skip
    req = make_request(patient, requester_type="attorney", requester_name="Law LLP",
                       state="tx")  # fmt: skip
    assert req.due_on == facility_today() + timedelta(days=15) and req.state == "TX"


def test_r_acc_2_one_extension_only_within_the_first_period(
    make_request, patient, roi_actor
):
    req = make_request(patient)
    with pytest.raises(ValidationFailed, match="reason for the delay"):
        rq.extend(actor=roi_actor, req=req, reason=" ")
    rq.extend(actor=roi_actor, req=req, reason="records are in off-site storage")
    assert req.extended_to == req.due_on + timedelta(days=30)
    with pytest.raises(ValidationFailed, match="already taken"):
        rq.extend(actor=roi_actor, req=req, reason="again")
    late = make_request(patient, received_on=facility_today() - timedelta(days=31))
    with pytest.raises(ValidationFailed, match="must be given within it"):
        rq.extend(actor=roi_actor, req=late, reason="late")
    refused = AuditEvent.objects.filter(action="release.refused", outcome="failure")
    assert refused.count() == 3


def test_a_request_for_an_unidentified_patient_is_refused_and_audited(
    roi_actor, patient
):
    import uuid

    data = request_in(patient, patient_id=uuid.uuid4())
    with pytest.raises(NotFound, match="cannot be identified"):
        rq.log_request(actor=roi_actor, data=data)
    assert not ReleaseRequest.objects.exists()
    event = AuditEvent.objects.filter(action="release.refused").latest("id")
    assert (
        event.outcome == "failure"
        and "no patient" in json.loads(event.detail)["reason"]
    )


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"requester_name": " "}, "requester_name"),
        ({"received_on": facility_today() + timedelta(days=1)}, "received_on"),
        ({"entire_record": False}, "entire_record"),
        ({"requester_type": "neighbour"}, "requester_type"),
        ({"requester_type": "representative"}, "representative_authority"),
        ({"delivery": "download", "requester_email": ""}, "requester_email"),
        (
            {
                "entire_record": False,
                "date_from": date(2024, 5, 1),
                "date_to": date(2024, 1, 1),
            },
            "date_to",
        ),  # fmt: skip
        ({"document_types": ["NOPE-1"]}, "document_types"),
        ({"facility_code": "SOUTH"}, "facility_code"),
    ],
)
def test_bad_intake_is_refused_naming_the_field(roi_actor, patient, other_facility,
                                                over, field):  # fmt: skip
    from recordroom.kernel.errors import RecordroomError

    with pytest.raises(RecordroomError) as exc:
        rq.log_request(actor=roi_actor, data=request_in(patient, **over))
    assert exc.value.field == field
    assert not ReleaseRequest.objects.exists()


def test_the_worklist_shows_overdue_first(make_request, patient, roi):
    fresh = make_request(patient)
    old = make_request(patient, received_on=facility_today() - timedelta(days=40))
    items = rq.worklist(user=roi)
    assert [i.request for i in items] == [old, fresh]
    assert items[0].overdue and items[0].days_left == -10 and items[0].age_days == 40
    assert [i.request for i in rq.worklist(user=roi, overdue_only=True)] == [old]


def test_status_moves_by_hand_follow_the_workflow(make_request, patient, roi_actor):
    req = make_request(patient)
    with pytest.raises(ValidationFailed, match="say why"):
        rq.set_status(actor=roi_actor, req=req, status="pending")
    rq.set_status(actor=roi_actor, req=req, status="pending", note="waiting for ID")
    with pytest.raises(ValidationFailed, match="cannot be moved to released"):
        rq.set_status(actor=roi_actor, req=req, status="released")


def test_r_min_6_a_third_party_gets_the_entire_record_only_with_a_reason(
    roi_actor, patient
):
    with pytest.raises(ValidationFailed, match="R-MIN-6") as exc:
        rq.log_request(actor=roi_actor, data=request_in(
            patient, requester_type="attorney", requester_name="Law LLP",
            entire_record_reason=""))  # fmt: skip
    assert exc.value.field == "entire_record_reason"
    # the patient's own access and treatment are not limited (R-MIN-2)
    for kind in ("patient", "provider"):
        req = rq.log_request(actor=roi_actor, data=request_in(
            patient, requester_type=kind, entire_record_reason=""))  # fmt: skip
        assert req.entire_record and req.entire_record_reason == ""


def test_legal_papers_and_scope_can_change_after_intake(
    make_request, patient, roi_actor
):
    req = make_request(patient, requester_type="subpoena", requester_name="Doe v. Roe",
                       legal_detail={"assurance": "notice"})  # fmt: skip
    rq.update_request(actor=roi_actor, req=req, changes={
        "legal_detail": {"notice_sent_on": "2026-10-01"}, "entire_record": False,
        "date_from": date(2025, 1, 1), "date_to": date(2025, 12, 31)})  # fmt: skip
    req.refresh_from_db()
    assert req.legal_detail == {"assurance": "notice", "notice_sent_on": "2026-10-01"}
    assert (req.entire_record, req.date_from) == (False, date(2025, 1, 1))
    event = AuditEvent.objects.filter(action="release.request_update").latest("id")
    assert json.loads(event.detail)["changed"] == [
        "date_from", "date_to", "entire_record", "legal_detail"]  # fmt: skip
    with pytest.raises(ValidationFailed, match="cannot change after intake"):
        rq.update_request(
            actor=roi_actor, req=req, changes={"received_on": facility_today()}
        )
    with pytest.raises(ValidationFailed) as exc:
        rq.update_request(
            actor=roi_actor, req=req, changes={"date_to": date(2024, 1, 1)}
        )
    assert exc.value.field == "date_to"
    req.refresh_from_db()
    assert req.date_to == date(2025, 12, 31)  # nothing half-written


def test_an_unknown_legal_basis_is_refused_by_name(roi_actor, patient):
    with pytest.raises(ValidationFailed, match="unknown legal basis 'because'") as exc:
        rq.log_request(actor=roi_actor, data=request_in(patient, legal_basis="because"))
    assert exc.value.field == "legal_basis" and not ReleaseRequest.objects.exists()


def test_a_patient_id_that_is_not_an_id_is_refused_and_audited(roi_actor, patient):
    with pytest.raises(NotFound, match="cannot be identified"):
        rq.log_request(
            actor=roi_actor, data=request_in(patient, patient_id="not-an-id")
        )
    event = AuditEvent.objects.filter(action="release.refused").latest("id")
    assert event.outcome == "failure" and event.patient_id == ""
