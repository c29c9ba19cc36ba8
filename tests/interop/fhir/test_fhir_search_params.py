"""FHIR R4 search parameters (R-INT-4): unsupported parameters refused unless the
client asks for lenient handling, `subject` beside `patient`, `_lastUpdated`,
modifiers, chains, `_revinclude`, dates at the precision given, and the
CapabilityStatement agreeing with the parser."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from recordroom.interop.fhir.registry import REGISTRY
from recordroom.mpi.models import Patient
from recordroom.records.models import Condition, Encounter
from recordroom.records.services import record_encounter
from tests import factories
from tests.interop.fhir.test_fhir_api import fhir_for

LENIENT = {"Prefer": "handling=lenient"}


@pytest.fixture
def api(him):
    return fhir_for(him)


def ids(body) -> set[str]:
    return {e["resource"]["id"] for e in body["entry"]
            if e["search"]["mode"] == "match"}  # fmt: skip


def _visit(patient, facility, admit, hours=5, account=None):
    return record_encounter(
        actor=factories.SYSTEM, patient=patient, facility=facility,
        account_number=account or f"V{admit:%Y%m%d%H%M}", encounter_class="IMP",
        admit_at=admit, discharge_at=admit + timedelta(hours=hours) if hours else None,
    )  # fmt: skip


def test_an_unsupported_parameter_is_refused_by_name_unless_lenient(
    api, db, facility, patient
):
    # Ignoring `birthdate-typo` would answer "Núñez born 1970" with every Núñez.
    factories.patient(facility=facility, family="Núñez", given="Ana")
    asked = {"family": "nunez", "birth-date": "1970-01-01"}
    refused = api.get("Patient", **asked)
    assert refused.status_code == 400
    OperationOutcome.model_validate(refused.json())
    issue = refused.json()["issue"][0]
    assert issue["code"] == "invalid" and issue["expression"] == ["birth-date"]
    assert "'birth-date' is not supported for Patient" in issue["diagnostics"]
    assert "handling=lenient" in issue["diagnostics"]
    for bad in ({"family:sounds-like": "nunez"}, {"gender.name": "x"},
                {"_sort": "family"}, {"_has:Encounter:patient:class": "IMP"}):  # fmt: skip
        resp = api.get("Patient", **bad)
        assert resp.status_code == 400, bad
        assert resp.json()["issue"][0]["expression"] == [next(iter(bad))]
    lenient = api.get("Patient", headers=LENIENT, **asked).json()
    Bundle.model_validate(lenient)
    assert len(ids(lenient)) == 2
    self_url = lenient["link"][0]["url"]
    assert "family=nunez" in self_url and "birth-date" not in self_url
    outcome = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    assert "birth-date" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    # Other types and chains too.
    assert api.get("Encounter", reason="x").status_code == 400
    assert api.get("Encounter", **{"patient.bogus": "x"}).status_code == 400


def test_subject_wherever_patient_is(api, chart_patient, facility, encounter):
    other = factories.patient(facility=facility, family="Else")
    factories.encounter(patient=other, facility=facility)
    note = factories.document(patient=chart_patient, facility=facility)
    pid = str(chart_patient.pk)
    Condition.objects.create(patient=chart_patient, encounter=encounter, code="I10")
    for rtype in ("Encounter", "Condition", "Procedure", "DocumentReference"):
        assert "subject" in REGISTRY[rtype].search_params, rtype
        by_patient = api.get(rtype, patient=pid).json()
        for value in (pid, f"Patient/{pid}", f"http://x/fhir/R4/Patient/{pid}"):
            by_subject = api.get(rtype, subject=value).json()
            assert ids(by_subject) == ids(by_patient), (rtype, value)
        typed = api.get(rtype, **{"subject:Patient": pid}).json()
        assert ids(typed) == ids(by_patient)
    assert ids(api.get("Encounter", subject=pid).json()) == {str(encounter.pk)}
    assert ids(api.get("DocumentReference", subject=pid).json()) == {str(note.pk)}
    wrong = api.get("Encounter", subject=f"Group/{pid}")
    assert wrong.status_code == 400 and "must reference a Patient" in wrong.text


def test_last_updated_with_every_prefix(api, db, facility):
    early = factories.patient(facility=facility, family="Early")
    late = factories.patient(facility=facility, family="Late")
    t1 = datetime(2024, 3, 5, 9, 30, 15, tzinfo=UTC)
    t2 = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
    # meta.lastUpdated: the version row's time once a name or identifier row
    # changed the patient (every patient here), which _lastUpdated searches
    from recordroom.interop.models import ResourceVersion

    for patient, at in ((early, t1), (late, t2)):
        Patient.objects.filter(pk=patient.pk).update(updated_at=at)
        ResourceVersion.objects.filter(resource_type="Patient",
                                       resource_id=patient.pk).update(updated_at=at)  # fmt: skip
    e, la = str(early.pk), str(late.pk)
    shown = api.get(f"Patient/{e}").json()["meta"]["lastUpdated"]
    assert shown.startswith("2024-03-05T09:30:15")  # what the search compares

    def found(value: str) -> set[str]:
        resp = api.get("Patient", _lastUpdated=value, family="early,late")
        assert resp.status_code == 200, resp.content
        return ids(resp.json())

    assert found("2024") == {e}
    assert found("eq2024-03-05") == {e}
    assert found("2024-03-05T09:30") == {e}
    assert found("2024-03-05T10:30:15+01:00") == {e}  # the same instant
    assert found("ne2024") == {la}
    assert found("gt2024-03-05") == {la}
    assert found("ge2024-03-05") == {e, la}
    assert found("lt2025") == {e}
    assert found("le2025-07") == {e, la}
    assert found("sa2024") == {la}
    assert found("eb2025-07-01T12:00:00Z") == {e}
    assert found("eb2025-07-01T12:00:01Z") == {e, la}
    assert found("ap2025-07-01") == {la}
    for rtype in ("DocumentReference", "Condition", "Procedure", "Organization",
                  "AuditEvent", "Encounter", "Practitioner"):  # fmt: skip
        resp = api.get(rtype, _lastUpdated="ge2024-01-01")
        assert resp.status_code in (200, 403), (rtype, resp.content)
        assert "_lastUpdated" in REGISTRY[rtype].search_params
    bad = api.get("Patient", _lastUpdated="2024-13")
    assert bad.status_code == 400 and "_lastUpdated" in bad.json()["issue"][0][
        "diagnostics"]  # fmt: skip


def test_r_int_4_last_updated_finds_what_meta_last_updated_shows(api, db, facility):
    """A name change moves meta.lastUpdated (the version row), and _lastUpdated
    finds the patient by that time, as it does an encounter and a practitioner,
    which keep no timestamp column of their own."""
    from recordroom.interop.models import ResourceVersion
    from recordroom.mpi.models import PatientName

    patient = factories.patient(facility=facility, family="Moved")
    visit = factories.encounter(patient=patient, facility=facility)
    doctor = factories.provider()
    old = datetime(2020, 1, 1, tzinfo=UTC)
    Patient.objects.filter(pk=patient.pk).update(updated_at=old)
    ResourceVersion.objects.all().update(updated_at=old)
    PatientName.objects.filter(patient=patient).update(given="Renamed")
    meta = api.get(f"Patient/{patient.pk}").json()["meta"]
    assert not meta["lastUpdated"].startswith("2020")
    assert ids(api.get("Patient", _lastUpdated="gt2021", family="moved").json()) == {
        str(patient.pk)}  # fmt: skip
    assert ids(api.get("Patient", _lastUpdated="lt2021", family="moved").json()) == set()
    for rtype, row in (("Encounter", visit), ("Practitioner", doctor)):
        shown = api.get(f"{rtype}/{row.pk}").json()["meta"]["lastUpdated"]
        year = shown[:4]
        assert str(row.pk) in ids(api.get(rtype, _lastUpdated=year).json()), rtype
        assert str(row.pk) not in ids(api.get(rtype, _lastUpdated=f"gt{year}").json())


def test_string_modifiers_exact_contains_and_missing(api, db, facility):
    from recordroom.mpi.services import NameIn

    jo = factories.patient(facility=facility, family="Johansson", given="Jo")
    jon = factories.patient(facility=facility, family="Jonsson", given="Åsa")
    nameless_given = factories.patient(facility=facility, family="Jonas", given="")
    maiden = factories.patient(facility=facility, family="Berg", given="Liv",
                               extra_names=[NameIn(family="Sonsson", given="Liv")])  # fmt: skip

    assert ids(api.get("Patient", family="jo").json()) == {
        str(jo.pk), str(jon.pk), str(nameless_given.pk)}  # fmt: skip
    assert ids(api.get("Patient", **{"family:exact": "Jonsson"}).json()) == {
        str(jon.pk)
    }
    assert ids(api.get("Patient", **{"family:exact": "jonsson"}).json()) == set()
    assert ids(api.get("Patient", **{"given:exact": "Åsa"}).json()) == {str(jon.pk)}
    assert ids(api.get("Patient", **{"given:exact": "Asa"}).json()) == set()
    assert ids(api.get("Patient", **{"family:contains": "SSON"}).json()) == {
        str(jo.pk), str(jon.pk), str(maiden.pk)}  # fmt: skip
    assert ids(api.get("Patient", **{"name:contains": "sa"}).json()) == {str(jon.pk)}
    missing = api.get("Patient", **{"given:missing": "true"}, family="jonas").json()
    assert ids(missing) == {str(nameless_given.pk)}
    present = api.get("Patient", **{"given:missing": "false"}, family="jo").json()
    assert ids(present) == {str(jo.pk), str(jon.pk)}
    assert api.get("Patient", **{"given:missing": "yes"}).status_code == 400
    assert api.get("Patient", **{"gender:exact": "female"}).status_code == 400


def test_a_token_with_another_system_finds_nothing(api, db, facility, other_facility):
    p = factories.patient(facility=facility, family="Tokens", sex="female")
    visit = factories.encounter(patient=p, facility=facility, account="T-1", cls="IMP")
    gender = "http://hl7.org/fhir/administrative-gender"
    for query, hit in (
        ({"gender": f"{gender}|female"}, True),
        ({"gender": "http://snomed.info/sct|female"}, False),
        ({"gender": "|female"}, False),
        ({"gender": f"{gender}|female", "family": "tokens"}, True),  # name paging
        ({"gender": "http://x|female", "family": "tokens"}, False),
    ):
        assert ids(api.get("Patient", **query).json()) == (
            {str(p.pk)} if hit else set()), query  # fmt: skip
    act = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    pid = str(p.pk)
    assert ids(api.get("Encounter", patient=pid, **{"class": f"{act}|IMP"}).json()) == {
        str(visit.pk)}  # fmt: skip
    assert (
        ids(api.get("Encounter", patient=pid, **{"class": "http://x|IMP"}).json())
        == set()
    )
    # A visit number is its facility's: another facility's system finds nothing.
    ours = f"{facility.mrn_system}/account|T-1"
    assert ids(api.get("Encounter", identifier=ours).json()) == {str(visit.pk)}
    theirs = f"{other_facility.mrn_system}/account|T-1"
    assert ids(api.get("Encounter", identifier=theirs).json()) == set()
    assert ids(api.get("Encounter", identifier="T-1").json()) == {str(visit.pk)}


def test_missing_on_references_dates_and_tokens(api, chart_patient, facility):
    visit = _visit(chart_patient, facility, datetime(2024, 1, 2, tzinfo=UTC))
    open_visit = _visit(chart_patient, facility, datetime(2024, 2, 2, tzinfo=UTC),
                        hours=0)  # fmt: skip
    with_visit = factories.document(patient=chart_patient, facility=facility,
                                    encounter=visit)  # fmt: skip
    loose = factories.document(patient=chart_patient, facility=facility)
    pid = str(chart_patient.pk)
    docs = {"patient": pid}
    assert ids(api.get("DocumentReference", **docs, **{"encounter:missing": "true"})
               .json()) == {str(loose.pk)}  # fmt: skip
    assert ids(api.get("DocumentReference", **docs, **{"encounter:missing": "false"})
               .json()) == {str(with_visit.pk)}  # fmt: skip
    both = ids(api.get("Encounter", patient=pid, **{"date:missing": "false"}).json())
    assert {str(visit.pk), str(open_visit.pk)} <= both
    # An open visit (no discharge yet) is still going on after any date.
    later = ids(api.get("Encounter", patient=pid, date="ge2030-01-01").json())
    assert later == {str(open_visit.pk)}


def test_chained_patient_identifier_and_family(api, db, facility, other_facility):
    ours = factories.patient(facility=facility, family="Chain", mrn="C-1")
    theirs = factories.patient(facility=facility, family="Other", mrn="C-2")
    hidden = factories.patient(facility=other_facility, family="Chain", mrn="C-1")
    mine = factories.encounter(patient=ours, facility=facility)
    factories.encounter(patient=theirs, facility=facility)
    factories.encounter(patient=hidden, facility=other_facility)
    doc = factories.document(patient=ours, facility=facility)
    system = facility.mrn_system
    chained = api.get("Encounter", **{"patient.identifier": f"{system}|C-1"}).json()
    assert ids(chained) == {str(mine.pk)}
    assert "patient.identifier=" in chained["link"][0]["url"]
    assert ids(api.get("Encounter", **{"subject:Patient.family": "chain"}).json()) == {
        str(mine.pk)}  # fmt: skip
    assert ids(api.get("Encounter", **{"subject.name": "chain"}).json()) == {
        str(mine.pk)}  # fmt: skip
    assert ids(api.get("DocumentReference",
                       **{"patient.identifier": "C-1"}).json()) == {str(doc.pk)}  # fmt: skip
    assert ids(api.get("Encounter", **{"patient.identifier": "C-404"}).json()) == set()
    assert api.get("Encounter", **{"subject:Group.name": "x"}).status_code == 400


def test_revinclude_brings_what_points_at_the_page(api, db, facility):
    from recordroom.audit.models import AuditEvent

    a = factories.patient(facility=facility, family="Revvy", given="Ann")
    b = factories.patient(facility=facility, family="Revvy", given="Bea")
    visits = {str(factories.encounter(patient=a, facility=facility).pk),
              str(factories.encounter(patient=a, facility=facility).pk)}  # fmt: skip
    note = factories.document(patient=b, facility=facility)
    body = api.get("Patient", family="revvy", _revinclude="Encounter:patient").json()
    Bundle.model_validate(body)
    included = {e["resource"]["id"] for e in body["entry"]
                if e["search"]["mode"] == "include"}  # fmt: skip
    assert included == visits and ids(body) == {str(a.pk), str(b.pk)}
    assert "_revinclude=Encounter%3Apatient" in body["link"][0]["url"]
    opened = AuditEvent.objects.filter(action="chart.open", patient_id=str(a.pk))
    assert opened.filter(detail__contains="Encounter:patient").exists()
    both = api.get("Patient", family="revvy", _revinclude=[
        "Encounter:patient", "DocumentReference:subject"]).json()  # fmt: skip
    assert str(note.pk) in {e["resource"]["id"] for e in both["entry"]}
    bad = api.get("Patient", _revinclude="Encounter:bogus")
    assert bad.status_code == 400 and "Encounter:patient" in bad.text
    assert "Encounter:patient" in {
        r["type"]: r for r in api.get("metadata").json()["rest"][0]["resource"]
    }["Patient"]["searchRevInclude"]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1970", {"y70", "m7003", "d700305"}),
        ("eq1970-03", {"m7003", "d700305"}),
        ("1970-03-05", {"d700305"}),
        ("ne1970", {"y71"}),
        ("lt1970-03", {"y70"}),
        ("le1970-03", {"y70", "m7003", "d700305"}),
        ("gt1970-03-05", {"y71"}),
        ("ge1970-03-05", {"d700305", "y71"}),
        ("sa1970", {"y71"}),
        ("eb1970-03-05", {"y70", "m7003"}),
        ("1970-03-05T10:00:00+01:00", set()),  # a day is not inside one second
        ("le1970-03-05T10:00:00+01:00", {"y70", "m7003", "d700305"}),
        ("lt1970-03-05T10:00:00+01:00", {"y70", "m7003", "d700305"}),
        ("gt1970-03-05T10:00:00+01:00", {"d700305", "y71"}),
    ],
)
def test_birthdate_at_the_precision_given(api, db, facility, value, expected):
    born = {"y70": date(1970, 1, 1), "m7003": date(1970, 3, 1),
            "d700305": date(1970, 3, 5), "y71": date(1971, 6, 1)}  # fmt: skip
    made = {factories.patient(facility=facility, family="Dated", given=k,
                              birth_date=d).pk: k for k, d in born.items()}  # fmt: skip
    body = api.get("Patient", family="dated", birthdate=value, _count=50).json()
    assert {made[uuid.UUID(i)] for i in ids(body)} == expected


def test_encounter_date_compares_the_visit_period(api, db, facility):
    p = factories.patient(facility=facility, family="Period")
    # 09:00-11:00 UTC on 5 March = 10:00-12:00 at +01:00.
    v = _visit(p, facility, datetime(2024, 3, 5, 9, 0, tzinfo=UTC), hours=2)
    pid = str(p.pk)

    def hit(value: str) -> bool:
        resp = api.get("Encounter", patient=pid, date=value)
        assert resp.status_code == 200, resp.content
        return ids(resp.json()) == {str(v.pk)}

    assert hit("2024") and hit("2024-03") and hit("eq2024-03-05")
    assert not hit("2024-03-06") and hit("ne2024-03-06") and not hit("ne2024-03-05")
    assert hit("ge2024-03") and not hit("ge2024-04") and hit("le2024-03-05")
    # It began at 09:00:00 UTC = 10:00:00+01:00: nothing of it lies before that
    # second, and something lies before the next one.
    assert not hit("lt2024-03-05T10:00:00+01:00")
    assert hit("lt2024-03-05T10:00:01+01:00")
    assert hit("gt2024-03-05T10:59:00Z") and not hit("gt2024-03-05T11:00:00Z")
    assert hit("sa2024-03-04") and not hit("sa2024-03-05")
    assert hit("eb2024-03-06") and not hit("eb2024-03-05T10:00Z")
    assert hit("ap2024-03-05") and not hit("ap2020")
    assert not Encounter.objects.filter(pk=v.pk, discharge_at__isnull=True).exists()
    bad = api.get("Encounter", date="2024-3-5")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["issue"][0][
        "diagnostics"]  # fmt: skip


# A value each declared parameter accepts (by FHIR type; a few need their own).
SAMPLES = {"token": "x", "string": "ab", "date": "ge2024", "reference": None}
OWN = {("AuditEvent", "_id"): "1", ("Provenance", "_id"): "1",
       ("Provenance", "target"): "Patient/{pid}", ("AuditEvent", "agent"): "him1",
       ("Patient", "identifier"): "M1", ("Condition", "code"): "I10"}  # fmt: skip


def test_capability_statement_lists_exactly_what_the_parser_accepts(
    db, api, chart_patient
):
    from tests.interop.fhir.test_fhir_api import fhir_for

    auditor = fhir_for(factories.user("aud1", "auditor"))
    listed = {r["type"]: r for r in api.get("metadata").json()["rest"][0]["resource"]}
    pid = str(chart_patient.pk)
    for rtype, rt in REGISTRY.items():
        names = {p["name"] for p in listed[rtype].get("searchParam", [])}
        assert names == set(rt.search_params), rtype
        for name, p in rt.search_params.items():
            value = OWN.get((rtype, name)) or SAMPLES.get(p.type) or pid
            if p.type == "reference" and (rtype, name) not in OWN:
                value = f"{p.target or 'Patient'}/{pid}" if p.target else pid
            if name == "_id" and (rtype, name) not in OWN:
                value = pid
            client = auditor if rtype == "AuditEvent" else api
            query = {name: value.format(pid=pid)}
            if rt.needs_one_of and name not in rt.needs_one_of:
                query[rt.needs_one_of[0]] = pid
            resp = client.get(rtype, **query)
            assert resp.status_code == 200, (rtype, name, resp.content[:300])
            for modifier in p.modifiers:
                v = "true" if modifier == "missing" else value.format(pid=pid)
                resp = client.get(rtype, **{**query, f"{name}:{modifier}": v})
                assert resp.status_code == 200, (rtype, name, modifier, resp.content)
