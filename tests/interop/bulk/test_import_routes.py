"""One visit, condition or procedure arriving by two routes is one row: two source
names on the bulk import, a transaction resent without fullUrl, a POST sent twice
(by business identifiers, else by a natural key); and our own export re-imported
never moves a visit to another facility."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

from recordroom.cli.app import app
from recordroom.interop.bulk.importer import import_fhir
from recordroom.records.models import Condition, Encounter, Organization, Procedure
from tests import factories
from tests.interop.bulk.test_export import _export
from tests.interop.conformance import folder
from tests.interop.fhir.test_fhir_api import fhir_for
from tests.interop.fhir.test_fhir_facility import post

RIOJAS = "Alejandro_Riojas_a9fcc685-c7a2-4474-bf25-26c8fe4b48f9.json"


@pytest.fixture
def importer(db, facility):
    user = factories.user("interface", "administrator", all_facilities=True)
    return factories.actor(user, channel="cli")


def _counts() -> tuple[int, int, int, int]:
    return (Encounter.objects.count(), Condition.objects.count(),
            Procedure.objects.count(), Organization.objects.count())  # fmt: skip


def test_the_same_synthea_bundles_from_two_sources_are_stored_once(importer, facility):
    synthea = folder("synthea-r4")
    import_fhir(actor=importer, paths=[synthea], source="ehr-a", facility=facility)
    first = _counts()
    assert first[:3] == (234, 104, 95)
    _, again = import_fhir(actor=importer, paths=[synthea], source="interface-engine",
                           facility=facility)  # fmt: skip
    assert again.totals()["rejected"] == 0
    created = again.by_status["created"]
    assert {t: created[t] for t in ("Encounter", "Condition", "Procedure",
                                    "Organization")} == dict.fromkeys(
        ("Encounter", "Condition", "Procedure", "Organization"), 0)  # fmt: skip
    assert _counts() == first
    # The two Synthea visits that start at the same moment (a check-up and a visit
    # for a problem) stay two: the natural key tells them apart by their end.
    starts = list(Encounter.objects.filter(
        patient__identifiers__value__startswith="9b55212c", patient__identifiers__kind="MR"
    ).values_list("admit_at", flat=True))  # fmt: skip
    assert len(starts) == 11 and len(set(starts)) == 10


def test_a_transaction_resent_without_full_urls_adds_nothing(him, facility):
    api = fhir_for(him)
    bundle = json.loads((folder("synthea-r4") / RIOJAS).read_text())
    kept = ("Patient", "Organization", "Practitioner", "Encounter", "Condition",
            "Procedure")  # fmt: skip
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] in kept]  # fmt: skip
    for entry in bundle["entry"]:  # the clinical entries carry neither id nor fullUrl
        res = entry["resource"]
        if res["resourceType"] in ("Condition", "Procedure"):
            entry.pop("fullUrl")
            res.pop("id")
            res.pop("reasonReference", None)
    resp = post(api, "", bundle)
    assert resp.status_code == 200, resp.content
    first = _counts()
    assert first[1:3] == (7, 4)
    again = post(api, "", copy.deepcopy(bundle))
    assert again.status_code == 200, again.content
    assert _counts() == first
    statuses = {e["response"]["status"] for e, r in zip(again.json()["entry"],
                bundle["entry"], strict=True)
                if r["resource"]["resourceType"] in ("Condition", "Procedure")}  # fmt: skip
    assert statuses == {"200 OK"}


def test_a_condition_posted_twice_is_one_condition(him, facility, importer):
    import_fhir(actor=importer, paths=[folder("synthea-r4") / RIOJAS],
                source="ehr-a", facility=facility)  # fmt: skip
    sprain = Condition.objects.get(code="70704007")
    body = {"resourceType": "Condition",
            "code": {"coding": [{"system": "http://snomed.info/sct",
                                 "code": "70704007", "display": "Sprain of wrist"}]},
            "subject": {"reference": f"Patient/{sprain.patient_id}"},
            "encounter": {"reference": f"Encounter/{sprain.encounter_id}"},
            "onsetDateTime": "2002-06-20T03:11:33+00:00"}  # fmt: skip
    api = fhir_for(him)
    # The bulk import's condition, then the same one over the API, twice: one row.
    for _ in range(2):
        resp = post(api, "Condition", body)
        assert resp.status_code == 200, resp.content
        assert resp.json()["id"] == str(sprain.pk)
    assert Condition.objects.filter(code="70704007").count() == 1
    # A new one (another onset) is created, once, however often it is posted.
    body["onsetDateTime"] = "2019-01-02T10:00:00+00:00"
    assert post(api, "Condition", body).status_code == 201
    assert post(api, "Condition", body).status_code == 200
    assert Condition.objects.filter(code="70704007").count() == 2


def test_business_identifiers_match_across_sources_whatever_else_changed(
    him, facility, importer
):
    import_fhir(actor=importer, paths=[folder("synthea-r4") / RIOJAS],
                source="ehr-a", facility=facility)  # fmt: skip
    visit = Encounter.objects.order_by("admit_at").first()
    body = {"resourceType": "Procedure", "status": "completed",
            "identifier": [{"system": "urn:oid:1.2.3.4.5", "value": "PROC-1"}],
            "code": {"coding": [{"system": "http://snomed.info/sct",
                                 "code": "40701008", "display": "Echocardiography"}]},
            "subject": {"reference": f"Patient/{visit.patient_id}"},
            "encounter": {"reference": f"Encounter/{visit.pk}"},
            "performedDateTime": "2001-01-01T10:00:00Z"}  # fmt: skip
    api = fhir_for(him)
    created = post(api, "Procedure", body)
    assert created.status_code == 201, created.content
    # The other route sends a corrected time under the same identifier: an update.
    other = factories.user("engine", "him_specialist", facilities=[facility])
    body["performedDateTime"] = "2001-01-01T11:30:00Z"
    updated = post(fhir_for(other), "Procedure", body)
    assert updated.status_code == 200, updated.content
    assert updated.json()["id"] == created.json()["id"]
    assert updated.json()["identifier"] == body["identifier"]
    row = Procedure.objects.get(identifier_key="urn:oid:1.2.3.4.5|PROC-1")
    assert row.performed_start.hour == 11
    # A second procedure of the same sender with another identifier is its own row.
    body["identifier"] = [{"system": "urn:oid:1.2.3.4.5", "value": "PROC-2"}]
    assert post(api, "Procedure", body).status_code == 201
    assert Procedure.objects.filter(code="40701008").count() == 2


def test_our_own_export_reimported_keeps_every_visit_at_its_facility(
    db, facility, other_facility, him, importer, tmp_path
):
    import_fhir(actor=importer, paths=[folder("synthea-r4") / RIOJAS],
                source="ehr-a", facility=facility)  # fmt: skip
    at_a = set(Encounter.objects.filter(facility=facility).values_list("pk", flat=True))
    assert len(at_a) == 10
    files = _export(fhir_for(him), types="Patient,Encounter,Condition,Procedure")
    visits = [json.loads(line) for line in files["Encounter"].splitlines()]
    assert {v["location"][0]["location"]["identifier"]["value"] for v in visits} == {
        facility.code
    }
    folder_ = tmp_path / "export"
    folder_.mkdir()
    for rtype, text in files.items():
        (folder_ / f"{rtype}.ndjson").write_text(text)
    # Re-imported with the other facility as the receiving one: nothing moves.
    _, summary = import_fhir(actor=importer, paths=[folder_], source="backup",
                             facility=other_facility)  # fmt: skip
    assert summary.totals()["rejected"] == 0
    assert set(Encounter.objects.filter(facility=facility).values_list(
        "pk", flat=True)) == at_a  # fmt: skip
    assert not Encounter.objects.filter(facility=other_facility).exists()
    # The same visits as another system's (ids not ours): filed at A, not B.
    for v in visits:
        v["id"] = f"other-{v['id'][:8]}"
    (folder_ / "Encounter.ndjson").write_text(
        "\n".join(json.dumps(v) for v in visits)
    )
    import_fhir(actor=importer, paths=[folder_ / "Encounter.ndjson"],
                source="other-system", facility=other_facility)  # fmt: skip
    assert not Encounter.objects.filter(facility=other_facility).exists()
    assert Encounter.objects.count() == 10


def test_recordroom_import_fhir_under_two_source_names_stores_one_chart(
    db, facility, tmp_path
):
    path = str(folder("synthea-r4") / RIOJAS)
    for source in ("ehr-a", "hie-feed"):
        result = CliRunner().invoke(app, ["import", "fhir", path, "--facility",
                                          facility.code, "--source", source])  # fmt: skip
        assert result.exit_code == 0, result.output
    assert _counts() == (10, 7, 4, 1)


def test_a_visit_numbered_first_by_another_identifier_is_still_one_visit(
    him, facility, importer
):
    import_fhir(actor=importer, paths=[folder("synthea-r4") / RIOJAS],
                source="ehr-a", facility=facility)  # fmt: skip
    patient_id = Encounter.objects.first().patient_id
    visit = {"resourceType": "Encounter", "status": "in-progress",
             "class": {"code": "IMP"},
             "identifier": [{"system": "urn:oid:1.1", "value": "V-100"}],
             "subject": {"reference": f"Patient/{patient_id}"},
             "period": {"start": "2026-10-01T08:00:00Z"}}  # fmt: skip
    first = post(fhir_for(him), "Encounter", visit)
    assert first.status_code == 201, first.content
    # The HIE puts its own number first and sends the discharge.
    visit["identifier"].insert(0, {"system": "urn:oid:2.2", "value": "HIE-9"})
    visit["status"] = "finished"
    visit["period"]["end"] = "2026-10-03T12:00:00Z"
    hie = factories.user("hie", "him_specialist", facilities=[facility])
    again = post(fhir_for(hie), "Encounter", visit)
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    row = Encounter.objects.get(pk=first.json()["id"])
    assert (row.account_number, row.status, row.discharge_at.day) == (
        "V-100", "finished", 3)  # fmt: skip
    assert Encounter.objects.count() == 11
