"""Changing a request after intake (PATCH /release-requests/{id}) and suspending
the accounting of disclosures to an agency (R-AOD-3) over the API."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.release.authorizations import check_basis
from recordroom.release.models import AccountingSuspension, ReleaseRequest
from tests import factories
from tests.factories import facility_today

from .conftest import api_for
from .test_release import body

TODAY = facility_today()


@pytest.fixture
def roi_api(db, facility):
    return api_for(factories.user("roi1", "roi_specialist", facilities=[facility]))


def subpoena(roi_api, patient, **papers) -> dict:
    created = roi_api.post("/release-requests", body(
        patient, requester_type="subpoena", requester_name="Doe v. Roe",
        legal_detail={"assurance": "notice", **papers}))  # fmt: skip
    assert created.status_code == 201, created.content
    return created.json()


def test_r_disc_3_assurance_papers_sent_later_make_the_basis_check_pass(
    roi_api, patient
):
    req = subpoena(roi_api, patient)
    url = f"/release-requests/{req['id']}"
    assert not roi_api.get(url + "/basis").json()["ok"]
    done = roi_api.patch(url, {"legal_detail": {
        "written_statement": True, "documents": ["notice letter", "certified mail receipt"],
        "notice_sent_on": (TODAY - timedelta(days=30)).isoformat(),
        "notice_sufficient": True,
        "objection_deadline": (TODAY - timedelta(days=2)).isoformat(),
        "objections_resolved": True}})  # fmt: skip
    assert done.status_code == 200, done.content
    out = done.json()
    assert out["legal_detail"]["assurance"] == "notice"  # merged, not replaced
    assert out["document_types"] == ["18842-5"]  # what was not sent stays
    assert check_basis(ReleaseRequest.objects.get()).ok
    assert roi_api.get(url + "/basis").json()["ok"]
    event = AuditEvent.objects.filter(action="release.request_update").get()
    assert event.channel == "api"
    assert json.loads(event.detail)["changed"] == ["legal_detail"]
    # null removes a paper
    again = roi_api.patch(url, {"legal_detail": {"objections_resolved": None}})
    assert "objections_resolved" not in again.json()["legal_detail"]
    assert not roi_api.get(url + "/basis").json()["ok"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_from": "2025-05-01", "date_to": "2025-01-01"}, "date_to"),
        ({"delivery": "download", "requester_email": ""}, "requester_email"),
        ({"document_types": ["NOPE-1"]}, "document_types"),
        ({"entire_record": True, "entire_record_reason": ""}, "entire_record_reason"),
        ({"format": "vinyl"}, "format"),
    ],
)
def test_a_bad_change_names_its_field_and_writes_nothing(
    roi_api, patient, change, field
):
    req = subpoena(roi_api, patient)
    before = ReleaseRequest.objects.values().get()
    refused = roi_api.patch(f"/release-requests/{req['id']}", change)
    assert refused.status_code == 422, refused.content
    assert refused.json()["field"] == field
    assert ReleaseRequest.objects.values().get() == before
    assert not AuditEvent.objects.filter(action="release.request_update").exists()
    event = AuditEvent.objects.filter(action="release.refused").latest("id")
    assert event.outcome == "failure" and json.loads(event.detail)["field"] == field


def test_what_cannot_change_is_refused(roi_api, patient):
    req = subpoena(roi_api, patient)
    url = f"/release-requests/{req['id']}"
    empty = roi_api.patch(url, {})
    assert empty.status_code == 422 and "at least one field" in empty.json()["message"]
    renamed = roi_api.patch(url, {"requester_name": "Someone Else"})
    assert renamed.status_code == 422 and renamed.json()["field"] == "requester_name"
    assert "cannot change after intake" in renamed.json()["message"]
    assert ReleaseRequest.objects.get().requester_name == "Doe v. Roe"
    roi_api.post(url + "/status", {"status": "cancelled", "note": "withdrawn"})
    closed = roi_api.patch(url, {"purpose": "trial"})
    assert closed.status_code == 422 and "is closed" in closed.json()["message"]
    assert AuditEvent.objects.filter(action="release.refused").count() == 2


def disclose(api, patient, days_ago, recipient, description, basis="oversight"):
    at = timezone.now() - timedelta(days=days_ago)
    made = api.post(f"/patients/{patient.pk}/disclosures", {
        "disclosed_at": at.isoformat(), "recipient_name": recipient,
        "description": description, "purpose": "oversight", "legal_basis": basis})  # fmt: skip
    assert made.status_code == 201, made.content


def listed(api, patient, as_of: date) -> list[str]:
    got = api.get(f"/patients/{patient.pk}/accounting-of-disclosures",
                  as_of=as_of.isoformat())  # fmt: skip
    assert got.status_code == 200, got.content
    return [e["description"] for e in got.json()["entries"]]


@pytest.fixture
def privacy_api(db, facility):
    return api_for(factories.user("po1", "privacy_officer", facilities=[facility]))


def test_r_aod_3_a_written_suspension_hides_the_agency_for_its_period(
    privacy_api, patient
):
    disclose(privacy_api, patient, 40, "Office of Inspector General", "audit sample")
    disclose(privacy_api, patient, 39, "County Health", "pertussis report",
             basis="public-health")  # fmt: skip
    end = TODAY + timedelta(days=60)
    made = privacy_api.post(f"/patients/{patient.pk}/accounting-suspensions", {
        "agency": "Office of Inspector General", "written": True,
        "statement": "Letter of Special Agent R. Diaz: an accounting would impede "
        "the investigation", "starts_on": (TODAY - timedelta(days=1)).isoformat(),
        "ends_on": end.isoformat()})  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["patient_id"] == str(patient.pk)
    assert made.json()["ends_on"] == end.isoformat()
    assert listed(privacy_api, patient, TODAY) == ["pertussis report"]
    assert listed(privacy_api, patient, end) == ["pertussis report"]
    assert listed(privacy_api, patient, end + timedelta(days=1)) == [
        "audit sample", "pertussis report"]  # fmt: skip
    event = AuditEvent.objects.filter(action="release.accounting_suspend").get()
    assert event.channel == "api" and event.patient_id == str(patient.pk)


def test_r_aod_3_an_oral_suspension_lasts_at_most_30_days(privacy_api, patient):
    disclose(privacy_api, patient, 5, "Springfield Police Department", "ED record",
             basis="law-enforcement")  # fmt: skip
    made = privacy_api.post(f"/patients/{patient.pk}/accounting-suspensions", {
        "agency": "springfield police department", "written": False,
        "statement": "Det. Moore by phone, badge 4411", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=90)).isoformat(), "every_patient": True})  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["patient_id"] is None
    assert made.json()["ends_on"] == (TODAY + timedelta(days=30)).isoformat()
    assert listed(privacy_api, patient, TODAY + timedelta(days=30)) == []
    assert listed(privacy_api, patient, TODAY + timedelta(days=31)) == ["ED record"]


def test_a_written_suspension_needs_its_end_date(privacy_api, patient):
    refused = privacy_api.post(f"/patients/{patient.pk}/accounting-suspensions", {
        "agency": "OIG", "written": True, "statement": "letter",
        "starts_on": TODAY.isoformat()})  # fmt: skip
    assert refused.status_code == 422 and refused.json()["field"] == "ends_on"
    assert not AccountingSuspension.objects.exists()
