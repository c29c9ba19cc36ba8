"""The release-of-information desk pages: intake through the index search, the aging
worklist, the request page and its workflow actions, who may open them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.actor import Actor
from recordroom.release.models import ReleaseRequest
from recordroom.release.requests import log_request
from tests import factories
from tests.factories import facility_today
from tests.release.conftest import request_in

from .conftest import signed_in


@pytest.fixture
def roi(db, facility):
    return factories.user("roi1", "roi_specialist", facilities=[facility])


@pytest.fixture
def roi_client(roi):
    return signed_in(roi)


def make_request(user, patient, **over) -> ReleaseRequest:
    return log_request(actor=Actor(user=user, channel="test"),
                       data=request_in(patient, **over))  # fmt: skip


def intake_post(patient, **over):
    data = {
        "patient": str(patient.pk), "facility": "NORTH", "requester_type": "attorney",
        "requester_name": "Ortega & Lane LLP", "requester_organization": "Ortega & Lane",
        "requester_address": "1 Court Sq\nSpringfield IL 62701",
        "requester_email": "records@ortegalane.example", "received_on":
        (facility_today() - timedelta(days=2)).isoformat(), "channel": "fax",
        "identity_verified": "on", "verification_method": "bar number checked",
        "purpose": "personal injury claim", "date_from": "2023-01-01",
        "date_to": "2024-12-31", "document_types": ["18842-5"], "format": "pdf",
        "delivery": "download", "legal_basis": "",
    }  # fmt: skip
    data.update(over)
    return data


def events(action, patient=None):
    rows = AuditEvent.objects.filter(action=action)
    if patient is not None:
        rows = rows.filter(patient_id=str(patient.pk))
    return rows


# --- intake ----------------------------------------------------------------------------------


def test_intake_finds_the_patient_through_the_index_search(roi_client, patient):
    page = roi_client.get("/release/new")
    assert page.status_code == 200 and "Find the patient" in page.content.decode()
    found = roi_client.get("/release/new", {"name": "nunez"})
    body = found.content.decode()
    assert found.status_code == 200
    assert f'href="/release/new?patient={patient.pk}"' in body
    search = events("patient.search").latest("id")
    assert json.loads(search.detail)["results"] == 1


def test_intake_logs_the_request_and_opens_its_page(roi_client, patient, encounter):
    form = roi_client.get("/release/new", {"patient": str(patient.pk)})
    body = form.content.decode()
    assert form.status_code == 200 and "NÚÑEZ, José" in body
    opened = events("chart.open", patient).latest("id")
    assert json.loads(opened.detail) == {"view": "release intake"}
    response = roi_client.post("/release/new", intake_post(patient))
    req = ReleaseRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/release/{req.pk}"
    assert (req.patient_id, req.requester_type, req.channel) == (patient.pk,
                                                                 "attorney", "fax")  # fmt: skip
    assert req.document_types == ["18842-5"] and req.date_to == date(2024, 12, 31)
    assert req.identity_verified and req.verified_by == "roi1"
    assert req.due_on == req.received_on + timedelta(days=30)
    page = roi_client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert req.number in text and "Ortega &amp; Lane LLP" in text
    assert "Request " + req.number + " logged" in text  # the message after the redirect
    read = events("chart.open", patient).latest("id")
    assert json.loads(read.detail) == {"release_request": req.number,
                                       "part": "request page"}  # fmt: skip


def test_intake_with_encounters_of_the_patient(roi_client, chart_patient, encounter):
    form = roi_client.get("/release/new", {"patient": str(chart_patient.pk)})
    assert "V900123" in form.content.decode()  # the patient's encounter to tick
    post = intake_post(chart_patient, date_from="", date_to="", document_types=[],
                       encounter_ids=[str(encounter.pk)])  # fmt: skip
    assert roi_client.post("/release/new", post).status_code == 302
    assert list(ReleaseRequest.objects.get().encounters.all()) == [encounter]


def _field_error(body: str, field: str) -> str:
    """The text of the form field block holding input `field`."""
    at = body.index(f'name="{field}"')
    start = body.rindex('<div class="field', 0, at)
    return body[start : body.index("</div>", at)]


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"requester_email": ""}, "requester_email", "download link needs"),
        ({"date_from": "", "date_to": "", "document_types": []}, "entire_record",
         "say what is asked for"),
        ({"date_to": "2022-01-01"}, "date_to", "ends (2022-01-01) before it starts"),
        ({"requester_type": "representative"}, "representative_authority",
         "authority"),
        ({"received_on": "2999-01-01"}, "received_on", "in the future"),
    ],
)  # fmt: skip
def test_bad_intake_names_the_field_and_writes_nothing(
    roi_client, patient, over, field, message
):
    response = roi_client.post("/release/new", intake_post(patient, **over))
    body = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was logged" in body
    block = _field_error(body, field)
    assert "has-error" in block and message in block.replace("&#x27;", "'")
    assert not ReleaseRequest.objects.exists()


def test_intake_for_a_patient_outside_your_facilities_is_refused(
    roi_client, other_facility
):
    stranger = factories.patient(facility=other_facility, family="Far", mrn="S1")
    response = roi_client.get("/release/new", {"patient": str(stranger.pk)})
    assert response.status_code == 403
    denied = events("chart.open", stranger).get()
    assert denied.outcome == "denied"


# --- worklist --------------------------------------------------------------------------------


def test_worklist_nearest_deadline_first_with_the_overdue_marked(
    roi, roi_client, patient, chart_patient
):
    today = facility_today()
    fresh = make_request(roi, patient)
    late = make_request(roi, chart_patient, received_on=today - timedelta(days=40))
    middle = make_request(roi, patient, received_on=today - timedelta(days=20))
    done = make_request(roi, patient)
    done.status = "cancelled"
    done.save()
    body = roi_client.get("/release/").content.decode()
    order = [body.index(r.number) for r in (late, middle, fresh)]
    assert order == sorted(order) and done.number not in body
    row = body[body.rindex("<tr", 0, order[0]) : body.index("</tr>", order[0])]
    assert 'class="overdue"' in row and "Overdue by 10 days" in row
    assert ">40<" in row  # its age in days
    middle_row = body[body.rindex("<tr", 0, order[1]) : body.index("</tr>", order[1])]
    assert "overdue" not in middle_row and ">10<" in middle_row  # days left
    assert "1 overdue" in body
    only = roi_client.get("/release/", {"overdue": "on"}).content.decode()
    assert late.number in only and fresh.number not in only
    cancelled = roi_client.get("/release/", {"status": "cancelled"}).content.decode()
    assert done.number in cancelled and late.number not in cancelled


def test_the_worklist_read_is_in_each_listed_patients_access_log(
    roi, roi_client, patient, chart_patient
):
    make_request(roi, patient)
    make_request(roi, chart_patient)
    roi_client.get("/release/")
    for p in (patient, chart_patient):
        listed = events("chart.open", p).latest("id")
        assert json.loads(listed.detail) == {"worklist": "release", "listed": True}


# --- the request page ------------------------------------------------------------------------


def test_pend_needs_a_note_shown_next_to_it_then_take_up_and_cancel(
    roi, roi_client, patient
):
    req = make_request(roi, patient)
    url = f"/release/{req.pk}/status"
    refused = roi_client.post(url, {"status": "pending", "note": ""})
    assert refused.status_code == 422
    body = refused.content.decode()
    note = body[
        body.index('id="status-note"') : body.index(
            "</div>", body.index('id="status-note"')
        )
    ]
    assert "say why" in note
    req.refresh_from_db()
    assert req.status == "received"
    done = roi_client.post(url, {"status": "pending", "note": "signature missing"})
    assert done.status_code == 302
    req.refresh_from_db()
    assert (req.status, req.status_note) == ("pending", "signature missing")
    roi_client.post(url, {"status": "in-progress"})
    req.refresh_from_db()
    assert req.status == "in-progress"
    page = roi_client.get(f"/release/{req.pk}").content.decode()
    assert "Pend (waiting on the requester)" in page and "Take up" not in page
    roi_client.post(url, {"status": "cancelled", "note": "withdrawn by phone"})
    req.refresh_from_db()
    assert req.status == "cancelled"
    closed = roi_client.get(f"/release/{req.pk}").content.decode()
    assert 'id="workflow"' not in closed  # nothing left to do by hand


def test_verify_and_extend_from_the_request_page(roi, roi_client, patient):
    req = make_request(roi, patient)
    refused = roi_client.post(f"/release/{req.pk}/verify", {"verification_method": ""})
    assert refused.status_code == 422
    assert "say how the identity was verified" in refused.content.decode()
    roi_client.post(f"/release/{req.pk}/verify",
                    {"verification_method": "photo ID at the desk"})  # fmt: skip
    req.refresh_from_db()
    assert req.identity_verified and req.verification_method == "photo ID at the desk"
    bad = roi_client.post(f"/release/{req.pk}/extend", {"extension_reason": " "})
    assert bad.status_code == 422 and "reason for the delay" in bad.content.decode()
    ok = roi_client.post(f"/release/{req.pk}/extend",
                         {"extension_reason": "records in off-site storage"})  # fmt: skip
    assert ok.status_code == 302
    page = roi_client.get(f"/release/{req.pk}").content.decode()
    assert f"extended to {req.due_on + timedelta(days=30):%Y-%m-%d}" in page
    assert "Take the extension" not in page
    assert events("release.refused").count() == 1  # the extension without a reason


def test_a_get_on_an_action_goes_back_to_the_page(roi, roi_client, patient):
    req = make_request(roi, patient)
    response = roi_client.get(f"/release/{req.pk}/status")
    assert response.status_code == 302 and response["Location"] == f"/release/{req.pk}"


def test_a_request_at_another_facility_is_not_found(roi_client, other_facility):
    stranger = factories.patient(facility=other_facility, family="Far", mrn="S2")
    south = factories.user("roi-s", "roi_specialist", facilities=[other_facility])
    req = make_request(south, stranger, facility_code="SOUTH")
    assert roi_client.get(f"/release/{req.pk}").status_code == 404
    assert roi_client.post(f"/release/{req.pk}/status",
                           {"status": "in-progress"}).status_code == 404  # fmt: skip
    assert req.number not in roi_client.get("/release/").content.decode()


# --- who may ---------------------------------------------------------------------------------


def test_a_coder_may_not_open_the_desk(db, facility, roi, patient):
    req = make_request(roi, patient)
    coder = signed_in(factories.user("coder1", "coder", facilities=[facility]))
    for url in ("/release/", "/release/new", f"/release/{req.pk}"):
        response = coder.get(url)
        assert response.status_code == 403, url
        assert "release-of-information" in response.content.decode()
    refused = coder.post(f"/release/{req.pk}/status", {"status": "in-progress"})
    assert refused.status_code == 403
    req.refresh_from_db()
    assert req.status == "received"
    assert 'href="/release/"' not in coder.get("/").content.decode()


def test_the_release_link_is_in_the_nav_for_the_desk(roi_client):
    assert '<a href="/release/">Release</a>' in roi_client.get("/").content.decode()
