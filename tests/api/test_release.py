"""The release-of-information desk over the JSON API: intake, the worklist, one
request and its workflow; refusals name the field and write nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel import clock
from recordroom.release.models import ReleaseRequest
from tests import factories
from tests.factories import facility_today

from .conftest import api_for


@pytest.fixture
def roi_api(db, facility):
    return api_for(factories.user("roi1", "roi_specialist", facilities=[facility]))


def body(patient, **over):
    data = {
        "patient_id": str(patient.pk), "facility": "NORTH", "requester_type": "patient",
        "requester_name": "José Núñez", "received_on": facility_today().isoformat(),
        "channel": "portal", "format": "electronic", "delivery": "download",
        "requester_email": "jose@example.org", "document_types": ["18842-5"],
    }  # fmt: skip
    data.update(over)
    return data


def test_log_a_request_and_read_it(roi_api, patient):
    created = roi_api.post("/release-requests", body(patient))
    assert created.status_code == 201, created.content
    out = created.json()
    req = ReleaseRequest.objects.get()
    assert out["id"] == str(req.pk) and out["number"] == req.number
    assert out["patient_name"] == "NÚÑEZ, José" and out["facility"] == "NORTH"
    assert out["due_on"] == (facility_today() + timedelta(days=30)).isoformat()
    assert out["days_left"] == 30 and out["overdue"] is False
    assert out["document_types"] == ["18842-5"] and out["status"] == "received"
    read = roi_api.get(f"/release-requests/{req.pk}")
    assert read.status_code == 200 and read.json()["number"] == req.number
    event = AuditEvent.objects.filter(action="chart.open").latest("id")
    assert event.channel == "api" and event.patient_id == str(patient.pk)
    assert json.loads(event.detail) == {
        "release_request": req.number,
        "part": "request",
    }


def test_a_bad_request_names_the_field_and_writes_nothing(roi_api, patient):
    missing = roi_api.post("/release-requests", body(patient, requester_email=""))
    assert missing.status_code == 422
    assert missing.json()["field"] == "requester_email"
    unknown = roi_api.post("/release-requests", body(patient, channel="pigeon"))
    assert unknown.status_code == 422 and unknown.json()["field"] == "channel"
    nobody = roi_api.post("/release-requests",
                          body(patient, patient_id="01a00000-0000-7000-8000-000000000000"))  # fmt: skip
    assert nobody.status_code == 404 and nobody.json()["field"] == "patient_id"
    assert "cannot be identified" in nobody.json()["message"]
    assert not ReleaseRequest.objects.exists()
    assert AuditEvent.objects.filter(action="release.refused").count() == 3


def test_the_worklist_nearest_deadline_first(roi_api, patient):
    old = (facility_today() - timedelta(days=35)).isoformat()
    roi_api.post("/release-requests", body(patient))
    late = roi_api.post("/release-requests", body(patient, received_on=old)).json()
    listed = roi_api.get("/release-requests").json()
    assert listed["count"] == 2 and listed["items"][0]["number"] == late["number"]
    first = listed["items"][0]
    assert (first["overdue"], first["days_left"], first["age_days"]) == (True, -5, 35)
    assert first["patient_name"] == "NÚÑEZ, José"
    overdue = roi_api.get("/release-requests", overdue=True).json()
    assert [i["number"] for i in overdue["items"]] == [late["number"]]
    listed_read = AuditEvent.objects.filter(action="chart.open", channel="api").latest(
        "id"
    )
    assert json.loads(listed_read.detail) == {"worklist": "release", "listed": True}


def test_status_verify_and_extension(roi_api, patient):
    req = roi_api.post("/release-requests", body(patient)).json()
    url = f"/release-requests/{req['id']}"
    refused = roi_api.post(url + "/status", {"status": "pending"})
    assert refused.status_code == 422 and refused.json()["field"] == "note"
    pended = roi_api.post(url + "/status", {"status": "pending", "note": "unsigned"})
    assert pended.json()["status"] == "pending"
    wrong = roi_api.post(url + "/status", {"status": "released"})
    assert wrong.status_code == 422 and "cannot be moved" in wrong.json()["message"]
    verified = roi_api.post(url + "/verify", {"method": "portal login"}).json()
    assert (
        verified["identity_verified"]
        and verified["verification_method"] == "portal login"
    )
    extended = roi_api.post(url + "/extension", {"reason": "off-site storage"}).json()
    assert (
        extended["extended_to"] == (facility_today() + timedelta(days=60)).isoformat()
    )
    again = roi_api.post(url + "/extension", {"reason": "again"})
    assert again.status_code == 422 and "already taken" in again.json()["message"]


def test_a_request_at_another_facility_is_not_found(roi_api, other_facility):
    stranger = factories.patient(facility=other_facility, family="Far", mrn="S1")
    south = api_for(factories.user("roi-s", "roi_specialist",
                                   facilities=[other_facility]))  # fmt: skip
    req = south.post("/release-requests", body(stranger, facility="SOUTH")).json()
    assert roi_api.get(f"/release-requests/{req['id']}").status_code == 404
    assert roi_api.get("/release-requests").json()["count"] == 0
    mine = roi_api.post("/release-requests", body(stranger, facility="NORTH"))
    assert mine.status_code == 403  # a patient with no record at your facilities


def test_r_acc_2_the_api_counts_days_on_the_facilitys_calendar(roi_api, patient):
    # 23:30 on December 6 in New York is 04:30 UTC on December 7
    with clock.frozen(datetime(2026, 12, 7, 4, 30, tzinfo=UTC)):
        future = roi_api.post(
            "/release-requests", body(patient, received_on="2026-12-07")
        )
        assert future.status_code == 422 and "in the future" in future.content.decode()
        created = roi_api.post(
            "/release-requests", body(patient, received_on="2026-12-06")
        )
        assert created.status_code == 201, created.content
        out = created.json()
    assert out["received_on"] == "2026-12-06" and out["due_on"] == "2027-01-05"
    assert out["days_left"] == 30 and out["overdue"] is False
    # an instant stays an instant: ISO 8601 with its offset
    assert datetime.fromisoformat(out["created_at"]).utcoffset() is not None
