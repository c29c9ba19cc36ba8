"""R-SEC-2: refused access attempts are audited (access.denied), in pages, the API
and FHIR alike, with the user, the patient when known, the path and the reason; the
client still gets its 403, or its 404 where out of scope reads as absent."""

import json

from django.db import transaction
from django.urls import reverse

from recordroom.audit.models import AuditEvent
from recordroom.audit.refusals import audit_refusal
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied
from tests import factories
from tests.api.conftest import api_for
from tests.interop.fhir.test_fhir_api import fhir_for
from tests.web.conftest import signed_in


def _refusals():
    return list(AuditEvent.objects.filter(action="access.denied").order_by("id"))


def test_r_sec_2_a_page_refused_for_a_missing_permission_is_audited(db, facility):
    coder = factories.user("coder1", "coder", facilities=[facility])
    page = signed_in(coder).get(reverse("web:release_worklist"))
    assert page.status_code == 403
    (event,) = _refusals()
    assert (event.outcome, event.username, event.channel) == ("denied", "coder1", "web")
    detail = json.loads(event.detail)
    assert detail["path"] == "/release/" and detail["status"] == 403
    assert "does not allow" in detail["reason"]


def test_r_sec_2_an_api_route_refused_for_a_missing_permission_is_audited(db, facility):
    coder = factories.user("coder2", "coder", facilities=[facility])
    resp = api_for(coder).get("/release-requests")
    assert resp.status_code == 403
    (event,) = _refusals()
    assert (event.username, event.channel, event.outcome) == ("coder2", "api", "denied")
    assert json.loads(event.detail)["path"] == "/api/v1/release-requests"


def test_r_sec_2_an_out_of_scope_api_read_is_audited_once(db, other_facility, him):
    stranger = factories.patient(facility=other_facility)
    resp = api_for(him).get(f"/patients/{stranger.pk}")
    assert resp.status_code == 403
    denied = AuditEvent.objects.filter(outcome="denied")
    # the chart read's own refusal row (chart.open, denied) is the one record of it
    assert [e.action for e in denied] == ["chart.open"]
    assert denied.get().patient_id == str(stranger.pk)


def test_r_sec_2_fhir_out_of_scope_reads_stay_404_and_are_audited(
    db, other_facility, him
):
    stranger = factories.patient(facility=other_facility)
    note = factories.document(patient=stranger, facility=other_facility)
    fhir = fhir_for(him)
    assert fhir.get(f"Patient/{stranger.pk}").status_code == 404
    assert fhir.get(f"DocumentReference/{note.pk}").status_code == 404
    assert fhir.get(f"Binary/{note.versions.get().pk}").status_code == 404
    assert fhir.get(f"Patient/{stranger.pk}/$everything").status_code in (403, 404)
    events = _refusals()
    assert [e.patient_id for e in events] == [str(stranger.pk)] * 4
    assert {e.username for e in events} == {"him1"}
    first = json.loads(events[0].detail)
    assert first["path"] == f"/fhir/R4/Patient/{stranger.pk}"
    assert first["status"] == 404 and "no record at your facilities" in first["reason"]


def test_r_sec_2_a_missing_patient_is_not_a_refusal(db, him):
    import uuid

    assert fhir_for(him).get(f"Patient/{uuid.uuid4()}").status_code == 404
    assert _refusals() == []


def test_r_sec_2_a_fhir_missing_permission_is_audited(db, facility):
    coder = factories.user("coder3", "coder", facilities=[facility])
    patient = factories.patient(facility=facility)
    fhir = fhir_for(coder)
    resp = fhir.client.put(
        f"/fhir/R4/Patient/{patient.pk}",
        data=json.dumps({"resourceType": "Patient", "id": str(patient.pk)}),
        content_type="application/fhir+json",
        headers=fhir.headers,
    )
    assert resp.status_code == 403, resp.content
    (event,) = _refusals()
    assert (event.username, event.patient_id) == ("coder3", str(patient.pk))
    assert json.loads(event.detail)["path"] == f"/fhir/R4/Patient/{patient.pk}"


def test_r_sec_2_a_refusal_that_cannot_be_audited_is_still_only_refused(db):
    """The audit of a refusal never turns the 403 into a 500."""
    with transaction.atomic():
        transaction.set_rollback(True)  # a broken transaction: no query can run
        audit_refusal(actor=Actor(channel="web"), exc=PermissionDenied("no"), path="/x")
    assert _refusals() == []


def test_r_sec_2_a_service_refusal_names_the_patient(db, facility, other_facility):
    from tests.api.test_release import body

    stranger = factories.patient(facility=other_facility, family="Far", mrn="S1")
    roi = api_for(factories.user("roi-n", "roi_specialist", facilities=[facility]))
    resp = roi.post("/release-requests", body(stranger, facility="NORTH"))
    assert resp.status_code == 403
    (event,) = _refusals()
    assert (event.username, event.patient_id) == ("roi-n", str(stranger.pk))
    assert "no record at your facilities" in json.loads(event.detail)["reason"]
