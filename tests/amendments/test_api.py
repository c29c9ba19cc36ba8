"""The amendments desk over the JSON API: log, work and decide a request, download
its letters; reads audited; the capability enforced."""

from __future__ import annotations

import io

from pypdf import PdfReader

from recordroom.audit.models import AuditEvent
from tests import factories
from tests.api.conftest import api_for


def test_r_amd_2_log_route_review_and_accept_over_the_api(
    him, patient, facility, note, author
):
    api = api_for(him)
    today = factories.facility_today()
    r = api.post("/amendment-requests", {
        "patient_id": str(patient.pk), "facility": facility.code,
        "received_on": today.isoformat(), "received_how": "portal",
        "requested_by": "José Núñez", "change": "I never smoked.",
        "reason": "Wrong patient's history.", "document_ids": [str(note.pk)],
        "notify": [{"name": "Dr. Ana Ruiz", "address": "1 Clinic Way"}]})  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["days_left"] == 60 and body["status"] == "received"
    rid = body["id"]
    listed = api.get("/amendment-requests").json()
    assert [i["number"] for i in listed["items"]] == [body["number"]]
    r = api.post(f"/amendment-requests/{rid}/route", {})
    assert r.json()["author"] == "William Osler, MD"
    r = api.post(f"/amendment-requests/{rid}/extension", {"reason": "records off site"})
    assert r.json()["days_left"] == 90
    r = api.post(f"/amendment-requests/{rid}/decision", {
        "accept": [str(note.pk)], "amendment_text": "The patient never smoked."})  # fmt: skip
    body = r.json()
    assert body["status"] == "accepted"
    assert body["entries"][0]["amended_version"] == 2
    kinds = [x["kind"] for x in body["letters"]]
    assert kinds == ["extension", "acceptance", "notice"]
    pdf = api.get(f"/amendment-letters/{body['letters'][1]['id']}")
    assert pdf["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "The patient never smoked." in text
    assert AuditEvent.objects.filter(action="chart.open",
                                     detail__contains="acceptance letter").exists()  # fmt: skip


def test_a_refusal_names_its_field_and_a_coder_may_not_work_the_desk(
    him, patient, facility, note
):
    r = api_for(him).post("/amendment-requests", {
        "patient_id": str(patient.pk), "facility": facility.code,
        "received_on": factories.facility_today().isoformat(), "received_how": "mail",
        "requested_by": "José Núñez", "change": "x", "reason": "",
        "document_ids": [str(note.pk)]})  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "reason"
    coder = factories.user("coder1", "coder", facilities=[facility])
    assert api_for(coder).get("/amendment-requests").status_code == 403
