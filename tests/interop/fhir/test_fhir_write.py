"""FHIR writes over HTTP: transaction and batch bundles, create with If-None-Exist,
update, errors as OperationOutcome, nothing half-written, and the audit trail."""

from __future__ import annotations

import base64
import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition as FhirCondition
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.procedure import Procedure as FhirProcedure

from recordroom.audit.models import AuditEvent
from recordroom.mpi.models import Patient
from recordroom.records.models import Condition, Document, Encounter, Procedure
from tests.interop.fhir.test_fhir_api import BASE, fhir_for

MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                  "code": "MR"}]}  # fmt: skip


@pytest.fixture
def api(him):
    fhir = fhir_for(him)

    def send(method: str, path: str, body, **headers):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return getattr(fhir.client, method)(
            BASE + path, data=data, content_type="application/fhir+json",
            headers={**fhir.headers, **headers},
        )  # fmt: skip

    fhir.send = send
    return fhir


def patient(facility, mrn="W5001", family="Adeyemi"):
    return {"resourceType": "Patient", "gender": "female", "birthDate": "1979-03-14",
            "name": [{"use": "official", "family": family, "given": ["Folake"]}],
            "identifier": [{"type": MR, "system": facility.mrn_system, "value": mrn}]}  # fmt: skip


def visit_bundle(facility, kind="transaction"):
    pdf = b"%PDF-1.4\n% synthetic discharge summary\n%%EOF\n"
    return {"resourceType": "Bundle", "type": kind, "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
         "resource": patient(facility), "request": {"method": "POST", "url": "Patient",
         "ifNoneExist": f"identifier={facility.mrn_system}|W5001"}},
        {"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
         "resource": {"resourceType": "Encounter", "status": "finished",
                      "class": {"code": "IMP"},
                      "identifier": [{"system": "urn:acct", "value": "A-77"}],
                      "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
                      "period": {"start": "2026-10-01T08:00:00Z", "end": "2026-10-04T12:00:00Z"}},
         "request": {"method": "POST", "url": "Encounter"}},
        {"resource": {"resourceType": "Condition", "code": {"coding": [
            {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J18.9",
             "display": "Pneumonia, unspecified organism"}]},
            "category": [{"coding": [{"code": "encounter-diagnosis"}]}],
            "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
            "encounter": {"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"}},
         "request": {"method": "POST", "url": "Condition"}},
        {"resource": {"resourceType": "Procedure", "status": "completed", "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "40701008",
                        "display": "Echocardiography"}]},
            "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
            "encounter": {"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"},
            "performedDateTime": "2026-10-02T10:00:00Z"},
         "request": {"method": "POST", "url": "Procedure"}},
        {"fullUrl": "urn:uuid:33333333-3333-4333-8333-333333333333",
         "resource": {"resourceType": "Binary", "contentType": "application/pdf",
                      "data": base64.b64encode(pdf).decode()},
         "request": {"method": "POST", "url": "Binary"}},
        {"resource": {"resourceType": "DocumentReference", "status": "current",
            "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5"}]},
            "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
            "date": "2026-10-04T13:00:00Z",
            "context": {"encounter": [{"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"}]},
            "content": [{"attachment": {"contentType": "application/pdf",
                                        "url": "urn:uuid:33333333-3333-4333-8333-333333333333"}}]},
         "request": {"method": "POST", "url": "DocumentReference"}},
    ]}  # fmt: skip


def test_a_transaction_files_a_whole_visit_and_a_resend_duplicates_nothing(
    api, facility
):
    resp = api.send("post", "", visit_bundle(facility))
    assert resp.status_code == 200, resp.content
    body = resp.json()
    Bundle.model_validate(body)
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == [
        "201 Created",
        "201 Created",
        "201 Created",
        "201 Created",
        "200 OK",
        "201 Created",
    ]
    p = Patient.objects.get()
    enc = Encounter.objects.get(patient=p)
    assert (enc.account_number, enc.encounter_class, enc.facility_id) == (
        "A-77",
        "IMP",
        facility.pk,
    )
    assert Condition.objects.get(patient=p).code == "J18.9"
    assert Procedure.objects.get(patient=p, encounter=enc).display == "Echocardiography"
    doc = Document.objects.get(patient=p)
    assert doc.encounter_id == enc.pk and doc.doc_type.code == "18842-5"
    assert doc.versions.get().media_type == "application/pdf"
    # Audited with the client as the agent, one event per row written.
    events = AuditEvent.objects.filter(action="interop.write", patient_id=str(p.pk))
    assert {e.object_type for e in events} == {
        "mpi.patient",
        "records.encounter",
        "records.condition",
        "records.procedure",
        "records.document",
    }
    assert {e.username for e in events} == {"him1"}
    assert json.loads(events.get(object_type="records.condition").detail) == {
        "source": "api:him1",
        "fhir": "Condition",
        "status": "created",
    }
    # The same bundle again: If-None-Exist finds the patient, the rest is matched.
    again = api.send("post", "", visit_bundle(facility)).json()
    assert again["entry"][0]["response"]["status"] == "200 OK"
    assert Patient.objects.count() == 1 and Encounter.objects.count() == 1


def test_a_transaction_with_a_bad_entry_writes_nothing(api, facility):
    bundle = visit_bundle(facility)
    bundle["entry"][2]["resource"]["subject"] = {"reference": "Patient/nobody-here"}
    resp = api.send("post", "", bundle)
    assert resp.status_code == 400
    issue = resp.json()["issue"][0]
    assert issue["diagnostics"].startswith(
        "entry 2 (Condition): Condition.subject refers to Patient/nobody-here"
    )
    assert issue["expression"] == ["Condition.subject"]
    assert not Patient.objects.exists() and not Encounter.objects.exists()
    assert not AuditEvent.objects.filter(action="interop.write").exists()


def test_a_batch_keeps_the_good_entries_and_answers_each(api, facility):
    bundle = visit_bundle(facility, kind="batch")
    bundle["entry"][3]["resource"]["performedDateTime"] = (
        "2026-10-02T10:00:00"  # no zone
    )
    body = api.send("post", "", bundle).json()
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses[3] == "400 Bad Request"
    outcome = body["entry"][3]["response"]["outcome"]["issue"][0]
    assert "has a time but no time zone" in outcome["diagnostics"]
    assert statuses.count("201 Created") == 4
    assert Procedure.objects.count() == 0 and Condition.objects.count() == 1


def test_create_with_if_none_exist_and_update(api, facility):
    created = api.send(
        "post",
        "Patient",
        patient(facility),
        **{"If-None-Exist": f"identifier={facility.mrn_system}|W5001"},
    )
    assert created.status_code == 201
    pid = created.json()["id"]
    version = created.json()["meta"]["versionId"]
    assert created["Location"].endswith(f"/fhir/R4/Patient/{pid}/_history/{version}")
    found = api.send(
        "post",
        "Patient",
        patient(facility),
        **{"If-None-Exist": f"identifier={facility.mrn_system}|W5001"},
    )
    assert found.status_code == 200 and found.json()["id"] == pid
    changed = patient(facility, family="Adeyemi-Cole")
    changed["id"] = pid
    updated = api.send("put", f"Patient/{pid}", changed)
    assert updated.status_code == 200
    names = {(n["use"], n["family"]) for n in updated.json()["name"]}
    assert {("official", "Adeyemi-Cole"), ("old", "Adeyemi")} <= names
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"resourceType": "Patient",', 400, "not JSON"),
        (b"\xff\xfe{}", 400, "not UTF-8"),
        ({"resourceType": "Frobnicator"}, 400, "posted to Patient"),
        ({"name": "no type"}, 400, "no resourceType"),
    ],
)
def test_bad_bodies_are_refused_with_the_reason(api, body, status, words):
    resp = api.send("post", "Patient", body)
    assert resp.status_code == status
    assert words in resp.json()["issue"][0]["diagnostics"]
    assert not Patient.objects.exists()


def test_writes_need_the_capability(facility, db):
    from tests import factories

    coder = factories.user("coder1", "coder", facilities=[facility])
    fhir = fhir_for(coder)
    resp = fhir.client.post(BASE + "Patient", data=json.dumps(patient(facility)),
                            content_type="application/fhir+json", headers=fhir.headers)  # fmt: skip
    assert resp.status_code == 403
    assert not Patient.objects.exists()


def test_new_types_read_and_search_after_a_write(api, facility):
    api.send("post", "", visit_bundle(facility))
    p = Patient.objects.get()
    conds = api.get("Condition", patient=f"Patient/{p.pk}").json()
    assert conds["total"] == 1
    cond = conds["entry"][0]["resource"]
    FhirCondition.model_validate(cond)
    assert cond["code"]["coding"][0]["code"] == "J18.9"
    assert (
        api.get("Condition", code="http://hl7.org/fhir/sid/icd-10-cm|J18.9").json()[
            "total"
        ]
        == 1
    )
    proc = api.get("Procedure", patient=str(p.pk), date="ge2026-10-01").json()["entry"][
        0
    ]["resource"]
    FhirProcedure.model_validate(proc)
    assert proc["performedDateTime"].startswith("2026-10-02T10:00:00")
    # Provenance from the audit trail: the patient was created by this user.
    prov = api.get("Provenance", target=f"Patient/{p.pk}").json()
    assert prov["total"] >= 1
    assert prov["entry"][0]["resource"]["agent"][0]["who"]["display"] == "him1"
    assert api.get("Provenance").status_code == 400  # must narrow by patient or target


def test_practitioner_with_a_non_npi_identifier(api, facility):
    body = {"resourceType": "Practitioner", "identifier": [{"system": "urn:staff",
            "value": "S-12"}], "name": [{"family": "Mbeki", "given": ["Thandi"]}]}  # fmt: skip
    resp = api.send("post", "Practitioner", body)
    assert resp.status_code == 201
    got = resp.json()
    FhirPractitioner.model_validate(got)
    assert got["identifier"] == [{"system": "urn:staff", "value": "S-12"}]
    assert api.get("Practitioner", family="mbe").json()["total"] == 1


def test_a_50_mb_body_is_answered_clearly_and_nothing_written(api, settings):
    junk = b"{" + b" " * (50 * 1024 * 1024)
    resp = api.send("post", "", junk)
    assert resp.status_code == 400
    assert "not JSON" in resp.json()["issue"][0]["diagnostics"]
    settings.FHIR_MAX_BODY_BYTES = 20 * 1024 * 1024
    resp = api.send("post", "", junk)
    assert resp.status_code == 413
    assert resp.json()["issue"][0]["diagnostics"].startswith(
        "the body is 50.0 MB; the limit is 20 MB (RECORDROOM_FHIR_MAX_BODY_MB)"
    )
    assert not Patient.objects.exists()


def test_a_bundle_whose_entry_is_not_an_array_is_refused(api):
    resp = api.send("post", "", {"resourceType": "Bundle", "type": "batch", "entry": 5})
    assert resp.status_code == 400
    assert (
        resp.json()["issue"][0]["diagnostics"]
        == "Bundle.entry must be an array, got int"
    )
