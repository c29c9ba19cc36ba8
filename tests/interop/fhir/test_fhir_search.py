"""FHIR searches by date, status, category and encounter; Encounter participants;
Binary as FHIR JSON; document status mapping."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.encounter import Encounter as FhirEncounter

from recordroom.records.services import change_document_status, record_encounter
from tests import factories
from tests.interop.fhir.test_fhir_api import fhir_for


@pytest.fixture
def api(him):
    return fhir_for(him)


def test_encounter_participants_disposition_and_date_search(api, db, facility):
    person = factories.patient(facility=facility, family="Visit")
    attending = factories.provider("Attending", "Ada")
    admitting = factories.provider("Admitting", "Ben")
    admit = datetime(2024, 3, 1, 14, 0, tzinfo=UTC)
    visit = record_encounter(
        actor=factories.SYSTEM, patient=person, facility=facility,
        account_number="V1", encounter_class="EMER", admit_at=admit,
        discharge_at=admit + timedelta(hours=5), attending=attending,
        admitting=admitting, discharge_disposition="01",
    )  # fmt: skip
    body = api.get(f"Encounter/{visit.pk}").json()
    FhirEncounter.model_validate(body)
    roles = {p["type"][0]["coding"][0]["code"]: p["individual"]
             for p in body["participant"]}  # fmt: skip
    assert roles["ATND"]["display"] == "Ada Attending, MD"
    assert roles["ATND"]["identifier"]["value"] == attending.npi
    assert roles["ADM"]["identifier"]["value"] == admitting.npi
    disposition = body["hospitalization"]["dischargeDisposition"]["coding"][0]
    assert disposition["code"] == "01"
    assert body["period"]["start"].startswith("2024-03-01T14:00")
    patient = str(person.pk)
    assert api.get("Encounter", patient=patient, date="ge2024-03-01").json()[
        "total"
    ] == 1  # fmt: skip
    assert api.get("Encounter", patient=patient, date="le2024-02-28").json()[
        "total"
    ] == 0  # fmt: skip
    by_status = api.get("Encounter", patient=f"Patient/{patient}",
                        status=body["status"]).json()  # fmt: skip
    assert by_status["total"] == 1
    assert api.get("Encounter", patient=patient, status="planned").json()[
        "total"
    ] == (1 if body["status"] == "planned" else 0)  # fmt: skip
    found = api.get("Encounter", patient=patient, date="2024-03-01").json()
    Bundle.model_validate(found)
    assert found["total"] == 1


def test_document_search_and_status_mapping(api, chart_patient, facility, encounter):
    note = factories.document(patient=chart_patient, facility=facility,
                              encounter=encounter)  # fmt: skip
    other = factories.document(patient=chart_patient, facility=facility)
    change_document_status(actor=factories.SYSTEM, document=other,
                           status="entered-in-error", reason="wrong patient")  # fmt: skip
    pid = str(chart_patient.pk)
    by_encounter = api.get("DocumentReference", encounter=str(encounter.pk)).json()
    assert [e["resource"]["id"] for e in by_encounter["entry"]] == [str(note.pk)]
    current = api.get("DocumentReference", patient=pid, status="current").json()
    assert [e["resource"]["id"] for e in current["entry"]] == [str(note.pk)]
    erred = api.get(f"DocumentReference/{other.pk}").json()
    DocumentReference.model_validate(erred)
    assert erred["status"] == "entered-in-error"
    category = note.doc_type.category
    assert api.get("DocumentReference", category=category).json()["total"] == 2
    assert api.get("DocumentReference", type="18842-5").json()["total"] == 2
    assert api.get("DocumentReference", type="http://x|18842-5").json()["total"] == 0
    today = datetime.now(UTC).date().isoformat()
    assert api.get("DocumentReference", date=f"ge{today}").json()["total"] == 2


def test_binary_as_fhir_json_and_out_of_scope(api, chart_patient, facility,
                                              other_facility):  # fmt: skip
    note = factories.document(patient=chart_patient, facility=facility)
    ref = api.get(f"DocumentReference/{note.pk}").json()
    url = ref["content"][0]["attachment"]["url"]
    resp = api.get(url, headers={"Accept": "application/fhir+json"})
    body = resp.json()
    Binary.model_validate(body)
    assert body["contentType"] == "application/pdf"
    assert base64.b64decode(body["data"]).startswith(b"%PDF")
    stranger = factories.patient(facility=other_facility)
    hidden = factories.document(patient=stranger, facility=other_facility)
    version = hidden.versions.get()
    assert api.get(f"Binary/{version.pk}").status_code == 404
    assert api.get("Binary/not-an-id").status_code == 404


def test_name_search_pages_in_name_order_and_caps_the_total(
    db, facility, him, monkeypatch
):
    from recordroom.interop.fhir import patient_paging, views
    from tests.interop.fhir.test_fhir_api import fhir_for

    for given in ("Zoe", "Amir", "Lena", "Bo", "Kai"):
        factories.patient(facility=facility, family="Smithers", given=given)
    api = fhir_for(him)
    seen, url = [], None
    body = api.get("Patient", family="smither", _count=2).json()
    assert body["total"] == 5
    while True:
        seen += [e["resource"]["name"][0]["given"][0] for e in body["entry"]]
        nxt = [link["url"] for link in body["link"] if link["relation"] == "next"]
        if not nxt:
            break
        url = nxt[0]
        body = api.get(url).json()
    assert seen == ["Amir", "Bo", "Kai", "Lena", "Zoe"]  # name order, no repeats
    monkeypatch.setattr(patient_paging, "TOTAL_CAP", 3)
    monkeypatch.setattr(views, "TOTAL_CAP", 3)
    capped = api.get("Patient", family="smither").json()
    assert "total" not in capped and len(capped["entry"]) == 5
    assert api.get("Patient", family="smither", _total="accurate").json()["total"] == 5
    bad = api.get("Patient", family="smither", _after="not-a-cursor")
    assert (
        bad.status_code == 400
        and "not a cursor" in bad.json()["issue"][0]["diagnostics"]
    )


def test_an_ssn_is_found_only_by_the_whole_number(db, facility, him):
    from tests.interop.fhir.test_fhir_api import fhir_for

    p = factories.patient(facility=facility, family="Quill", ssn="900-12-7788")
    factories.patient(facility=facility, family="Other", ssn="900-55-7788")
    api = fhir_for(him)
    ssn = "http://hl7.org/fhir/sid/us-ssn"
    whole = api.get("Patient", identifier=f"{ssn}|900-12-7788").json()
    assert [e["resource"]["id"] for e in whole["entry"]] == [str(p.pk)]
    assert api.get("Patient", identifier="***-**-7788").json()["total"] == 0
    assert api.get("Patient", identifier=f"{ssn}|7788").status_code == 400
