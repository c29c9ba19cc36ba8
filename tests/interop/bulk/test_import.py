"""`import_fhir`: Synthea bundles and the official R4 examples, idempotent reruns,
resuming, and the quarantine for what cannot be kept."""

from __future__ import annotations

import json

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.interop.bulk.importer import import_fhir
from recordroom.interop.models import ImportRun, QuarantineItem, SourceKey
from recordroom.kernel.blobs import default_store
from recordroom.mpi.models import Patient, PatientIdentifier
from recordroom.records.models import Condition, Document, Encounter, Procedure
from tests import factories
from tests.interop.conformance import folder


@pytest.fixture
def importer(db, facility):
    user = factories.user("interface", "administrator", all_facilities=True)
    return factories.actor(user, channel="cli")


def _run(importer, facility, *paths, source="test-source"):
    return import_fhir(
        actor=importer, paths=list(paths), source=source, facility=facility
    )


def test_every_synthea_bundle_imports_with_its_chart(importer, facility):
    synthea = folder("synthea-r4")
    run, summary = _run(importer, facility, synthea)
    totals = summary.totals()
    assert summary.files == 20
    assert totals["rejected"] == 0
    created = summary.by_status["created"]
    # The counts of the stored types in the 20 bundles (every one kept).
    assert (created["Patient"], created["Encounter"], created["Condition"],
            created["Procedure"]) == (19, 234, 104, 95)  # fmt: skip
    assert summary.by_status["skipped"]["Observation"] == 1231
    assert Patient.objects.count() == 19
    # Searchable afterwards: by the MRN Synthea gives, with the chart behind it.
    ident = PatientIdentifier.objects.get(value="a9fcc685-c7a2-4474-bf25-26c8fe4b48f9",
                                          kind="MR")  # fmt: skip
    patient = ident.patient
    assert patient.legal_name().family == "Riojas"
    assert Encounter.objects.filter(patient=patient).count() > 5
    sprain = Condition.objects.get(patient=patient, code="70704007")
    assert sprain.display == "Sprain of wrist"
    assert sprain.encounter is not None and sprain.encounter.patient_id == patient.pk
    assert Procedure.objects.filter(patient=patient).exists()
    run.refresh_from_db()
    assert run.status == "finished" and run.counts["totals"]["created"] == 576
    assert AuditEvent.objects.filter(
        action="interop.write", patient_id=patient.pk
    ).exists()


def test_a_second_run_adds_nothing(importer, facility):
    synthea = folder("synthea-r4")
    _run(importer, facility, synthea)
    counts = (
        Patient.objects.count(),
        Encounter.objects.count(),
        Condition.objects.count(),
    )
    _, again = _run(importer, facility, synthea)
    assert again.totals()["created"] == 0
    assert again.totals()["updated"] == 0
    assert again.totals()["unchanged"] == 608
    assert (Patient.objects.count(), Encounter.objects.count(),
            Condition.objects.count()) == counts  # fmt: skip


def test_an_interrupted_import_resumes_without_duplicates(importer, facility, tmp_path):
    synthea = sorted(folder("synthea-r4").glob("*.json"))
    # The first run "crashed" after five files: the rerun over all of them only
    # adds what is missing.
    _run(importer, facility, *synthea[:5])
    _, summary = _run(importer, facility, *synthea)
    assert summary.by_status["created"]["Patient"] == 14
    assert Patient.objects.count() == 19


def test_every_r4_example_of_a_kept_type_imports(importer, facility):
    examples = folder("fhir-r4-examples")
    _, summary = _run(importer, facility, examples)
    refused = {(q.location.rsplit("/", 1)[-1], q.reason)
               for q in QuarantineItem.objects.all()}  # fmt: skip
    # Only the two procedures that name no patient (subject is a display text) are
    # refused: a record that cannot be filed in a chart is not kept.
    assert {loc for loc, _ in refused} == {
        "Procedure-education.json",
        "Procedure-ob.json",
    }
    assert all("must reference the Patient" in reason for _, reason in refused)
    created = summary.by_status["created"]
    assert created["Condition"] == 12 and created["Encounter"] == 11
    assert created["DocumentReference"] == 2  # one alone, one in a bundle
    # A Chinese name is kept, and findable by its own characters.
    assert Patient.objects.filter(
        names__family="张无忌", names__family_key="张无忌"
    ).exists()


def test_bad_input_is_quarantined_with_its_reason(importer, facility, tmp_path):
    (tmp_path / "broken.json").write_text('{"resourceType": "Patient", ')
    (tmp_path / "odd.json").write_text('{"resourceType": "Bundle", "entry": 5}')
    (tmp_path / "latin1.json").write_bytes('{"name": "Mu\xf1oz"}'.encode("latin-1"))
    (tmp_path / "lines.ndjson").write_text(
        json.dumps({"resourceType": "Frobnicator", "id": "x"}) + "\n"
        + "not json\n"
        + json.dumps({"resourceType": "Condition", "id": "c1", "code": {"text": "flu"},
                      "subject": {"reference": "Patient/nobody"}}) + "\n"
        + json.dumps({"resourceType": "Patient", "id": "p1", "gender": "unknown",
                      "birthDate": "1990-02-30",
                      "identifier": [{"system": "urn:x", "value": "1"}]}) + "\n"
    )  # fmt: skip
    run, summary = _run(importer, facility, tmp_path)
    reasons = {q.location.rsplit("/", 1)[-1]: q.reason for q in run.quarantined.all()}
    assert reasons["broken.json"].startswith("not JSON: ")
    assert reasons["latin1.json"].startswith("not UTF-8 text (byte 12)")
    assert reasons["odd.json"] == "Bundle.entry is not an array"
    assert reasons["lines.ndjson:1"] == "'Frobnicator' is not a FHIR R4 resource type"
    assert reasons["lines.ndjson:2"].startswith("line 2 is not JSON")
    assert "Patient/nobody, which does not exist here" in reasons["lines.ndjson:3"]
    assert (
        reasons["lines.ndjson:4"]
        == "Patient.birthDate '1990-02-30' is not a calendar date"
    )
    assert summary.totals()["rejected"] == 7
    assert Patient.objects.count() == 0 and Condition.objects.count() == 0
    # The raw input is kept, encrypted, and readable back from the quarantine.
    item = run.quarantined.get(location__endswith="broken.json")
    assert default_store().get(item.raw_sha256) == b'{"resourceType": "Patient", '


def test_a_number_beyond_64_bits_is_quarantined_not_rounded(importer, facility, tmp_path):
    """orjson reads 123...890 (30 digits) as a float without a word; the import
    refuses it by path, as the FHIR API does, and still takes a long identifier
    that is a string."""
    big = "123456789012345678901234567890"
    (tmp_path / "lines.ndjson").write_text(
        '{"resourceType": "Patient", "id": "p1", "multipleBirthInteger": ' + big
        + ', "identifier": [{"system": "urn:x", "value": "1"}]}\n'
        + json.dumps({"resourceType": "Patient", "id": "p2",
                      "identifier": [{"system": "urn:x", "value": big}]}) + "\n"
    )  # fmt: skip
    (tmp_path / "one.json").write_text(
        '{"resourceType": "Patient", "id": "p3", "multipleBirthInteger": ' + big + "}"
    )
    run, _ = _run(importer, facility, tmp_path)
    reasons = {q.location.rsplit("/", 1)[-1]: q.reason for q in run.quarantined.all()}
    assert reasons == {
        "lines.ndjson:1": f"line 1: Patient.multipleBirthInteger: {big} is beyond "
        "64 bits; FHIR integers are 32-bit",
        "one.json": f"Patient.multipleBirthInteger: {big} is beyond 64 bits; FHIR "
        "integers are 32-bit",
    }
    assert PatientIdentifier.objects.filter(value=big).count() == 1


def test_a_missing_path_is_refused_before_anything_is_read(
    importer, facility, tmp_path
):
    from recordroom.kernel.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="nope does not exist"):
        _run(importer, facility, tmp_path / "nope")
    assert not ImportRun.objects.exists() and not SourceKey.objects.exists()


def test_a_resend_with_new_content_updates_in_place(importer, facility, tmp_path):
    patient = {"resourceType": "Patient", "id": "p9", "gender": "female",
               "name": [{"use": "official", "family": "Okafor", "given": ["Ada"]}],
               "identifier": [{"type": {"coding": [{"system":
                   "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                   "system": facility.mrn_system, "value": "N777"}]}  # fmt: skip
    path = tmp_path / "p.json"
    path.write_text(json.dumps(patient))
    _run(importer, facility, path)
    patient["name"][0]["family"] = "Okafor-Reyes"
    patient["birthDate"] = "1988-04-02"
    path.write_text(json.dumps(patient))
    _, summary = _run(importer, facility, path)
    assert summary.by_status["updated"]["Patient"] == 1
    p = Patient.objects.get()
    assert p.legal_name().family == "Okafor-Reyes"
    assert str(p.birth_date) == "1988-04-02"
    # The old legal name is history, not lost.
    assert p.names.filter(use="previous", family="Okafor").exists()
    assert Document.objects.count() == 0


def test_a_refused_update_changes_nothing_and_a_too_large_document_is_quarantined(
    importer, facility, tmp_path, settings
):
    other = factories.patient(facility=facility, family="Taken", mrn="N888")
    mr = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                      "code": "MR"}]}  # fmt: skip
    patient = {"resourceType": "Patient", "id": "p1",
               "name": [{"use": "official", "family": "Brandt", "given": ["Ula"]}],
               "identifier": [{"type": mr, "system": facility.mrn_system, "value": "N777"}]}  # fmt: skip
    path = tmp_path / "p.json"
    path.write_text(json.dumps(patient))
    _run(importer, facility, path)
    # The resend renames her and claims another patient's MRN: refused whole.
    patient["name"][0]["family"] = "Brandt-Olsen"
    patient["identifier"].append(
        {"type": mr, "system": facility.mrn_system, "value": "N888"}
    )
    path.write_text(json.dumps(patient))
    _, summary = _run(importer, facility, path)
    assert summary.by_status["rejected"]["Patient"] == 1
    ula = Patient.objects.exclude(pk=other.pk).get()
    assert ula.legal_name().family == "Brandt"  # the name change rolled back too
    settings.MAX_UPLOAD_BYTES = 10
    doc = {"resourceType": "DocumentReference", "id": "d1", "status": "current",
           "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5"}]},
           "subject": {"reference": "Patient/p1"}, "date": "2026-01-02T00:00:00Z",
           "content": [{"attachment": {"contentType": "text/plain",
                                       "data": "aGVsbG8gd29ybGQgYWdhaW4="}}]}  # fmt: skip
    (tmp_path / "d.json").write_text(json.dumps(doc))
    run, summary = _run(importer, facility, tmp_path / "d.json")
    assert run.status == "finished"
    assert "the limit is" in run.quarantined.get().reason
    assert Document.objects.count() == 0
