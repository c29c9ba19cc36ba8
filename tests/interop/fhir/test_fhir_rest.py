"""FHIR R4 REST semantics (R-INT-4): conditional create leaves a match alone, the
base answers without a trailing slash, malformed bodies are 400 OperationOutcomes,
versions (meta.versionId, ETag, If-Match, vread, _history), update-as-create and
reads inside a batch."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.mpi.models import Patient, PatientName
from tests import factories
from tests.interop.fhir.test_fhir_api import BASE, fhir_for
from tests.interop.fhir.test_fhir_write import patient


@pytest.fixture
def api(him):
    fhir = fhir_for(him)

    def send(method: str, path: str, body, content_type="application/fhir+json",
             **headers):  # fmt: skip
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return getattr(fhir.client, method)(
            path if path.startswith("/") else BASE + path, data=data,
            content_type=content_type, headers={**fhir.headers, **headers},
        )  # fmt: skip

    fhir.send = send
    return fhir


def _legal_family(pid: str) -> str:
    return PatientName.objects.get(patient_id=pid, use="legal",
                                   period_end__isnull=True).family  # fmt: skip


def test_r_int_4_conditional_create_returns_the_match_unchanged(api, facility):
    first = api.send("post", "Patient", patient(facility))
    assert first.status_code == 201
    pid = first.json()["id"]
    writes = AuditEvent.objects.filter(action="interop.write").count()
    other = patient(facility, family="Overwritten")
    resp = api.send("post", "Patient", other,
                    **{"If-None-Exist": f"identifier={facility.mrn_system}|W5001"})  # fmt: skip
    assert resp.status_code == 200
    body = resp.json()
    assert body["id"] == pid
    assert resp["Location"] == (f"http://testserver{BASE}Patient/{pid}/_history/"
                                f"{first.json()['meta']['versionId']}")  # fmt: skip
    assert {n["family"] for n in body["name"]} == {"Adeyemi"}
    assert _legal_family(pid) == "Adeyemi"  # the chart was left alone
    assert AuditEvent.objects.filter(action="interop.write").count() == writes
    assert Patient.objects.count() == 1


def test_r_int_4_conditional_create_in_a_transaction_leaves_the_match_alone(
    api, facility
):
    pid = api.send("post", "Patient", patient(facility)).json()["id"]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
         "resource": patient(facility, family="Overwritten"),
         "request": {"method": "POST", "url": "Patient",
                     "ifNoneExist": f"identifier={facility.mrn_system}|W5001"}},
        {"resource": {"resourceType": "Encounter", "status": "finished",
                      "class": {"code": "AMB"},
                      "identifier": [{"system": "urn:acct", "value": "A-1"}],
                      "subject": {"reference":
                                  "urn:uuid:11111111-1111-4111-8111-111111111111"},
                      "period": {"start": "2026-10-01T08:00:00Z"}},
         "request": {"method": "POST", "url": "Encounter"}},
    ]}  # fmt: skip
    resp = api.send("post", "", bundle)
    assert resp.status_code == 200, resp.content
    entries = resp.json()["entry"]
    assert entries[0]["response"]["status"] == "200 OK"
    assert entries[0]["response"]["location"].startswith(f"Patient/{pid}")
    assert entries[1]["response"]["status"] == "201 Created"
    assert entries[1]["response"]["location"].endswith("/_history/1")
    assert entries[1]["response"]["etag"] == 'W/"1"'
    assert _legal_family(pid) == "Adeyemi"
    enc = api.get(entries[1]["response"]["location"].split("/_history")[0]).json()
    assert enc["subject"]["reference"] == f"Patient/{pid}"


def test_r_int_4_conditional_create_with_two_matches_is_412(api, facility):
    api.send("post", "Patient", patient(facility, mrn="A1", family="Twin"))
    api.send("post", "Patient", patient(facility, mrn="A2", family="Twin"))
    resp = api.send("post", "Patient", patient(facility, mrn="A3", family="Twin"),
                    **{"If-None-Exist": "family=Twin"})  # fmt: skip
    assert resp.status_code == 412
    issue = resp.json()["issue"][0]
    assert "matches 2 Patient resources" in issue["diagnostics"]
    assert Patient.objects.count() == 2


def test_r_int_4_conditional_create_without_a_match_creates(api, facility):
    resp = api.send("post", "Patient", patient(facility),
                    **{"If-None-Exist": f"identifier={facility.mrn_system}|W5001"})  # fmt: skip
    assert resp.status_code == 201
    assert Patient.objects.filter(pk=resp.json()["id"]).exists()


def test_r_int_4_a_batch_answers_412_for_its_ambiguous_entry_only(api, facility):
    api.send("post", "Patient", patient(facility, mrn="A1", family="Twin"))
    api.send("post", "Patient", patient(facility, mrn="A2", family="Twin"))
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": patient(facility, mrn="A3", family="Twin"),
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": "family=Twin"}},
        {"resource": patient(facility, mrn="B1", family="Solo"),
         "request": {"method": "POST", "url": "Patient"}},
    ]}  # fmt: skip
    entries = api.send("post", "", bundle).json()["entry"]
    assert entries[0]["response"]["status"] == "412 Precondition Failed"
    assert (
        "matches 2 Patient resources"
        in (entries[0]["response"]["outcome"]["issue"][0]["diagnostics"])
    )
    assert entries[1]["response"]["status"] == "201 Created"
    assert Patient.objects.count() == 3


def test_r_int_4_the_base_without_a_trailing_slash_takes_a_transaction(api, facility):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient(facility), "request": {"method": "POST", "url": "Patient"}},
    ]}  # fmt: skip
    resp = api.send("post", "/fhir/R4", bundle)
    assert resp.status_code == 200, resp.content
    assert resp.json()["entry"][0]["response"]["status"] == "201 Created"
    assert Patient.objects.count() == 1
    got = api.client.get("/fhir/R4", headers=api.headers)
    assert got.status_code == 400  # as /fhir/R4/: not a redirect
    assert got["Content-Type"].startswith("application/fhir+json")
    assert "whole-system search" in got.json()["issue"][0]["diagnostics"]


GOOD = ('{"resourceType":"Patient","gender":"female","birthDate":"1979-03-14",'
        '"identifier":[{"system":"urn:oid:1.2.3","value":"W1"}],')  # fmt: skip
MALFORMED = {
    "nesting": (GOOD + '"name":' + "[" * 10000 + "]" * 10000 + "}",
                "nests arrays or objects deeper than 100 levels"),
    "nesting past our serializers": (GOOD + '"name":' + "[" * 300 + "]" * 300 + "}",
                                     "Patient.name[0][0][0]"),
    "integer beyond 64 bits": (GOOD + '"multipleBirthInteger":123456789012345678901}',
                               "Patient.multipleBirthInteger: 123456789012345678901 "
                               "is beyond 64 bits"),
    "integer of 5000 digits": (GOOD + '"multipleBirthInteger":' + "9" * 5000 + "}",
                               "is beyond 64 bits"),
    "unpaired surrogate": (GOOD + '"name":[{"family":"\\ud800x"}]}',
                           "Patient.name[0].family holds an unpaired surrogate "
                           "(U+D800) at character 0"),
    "NUL character": (GOOD + '"name":[{"family":"A\\u0000"}]}',
                      "Patient.name[0].family holds a control character (U+0000)"),
    "NaN": (GOOD + '"multipleBirthInteger":NaN}', "NaN is not a JSON number"),
    "infinite number": (GOOD + '"multipleBirthInteger":1e999}',
                        "1e999 is too large a number"),
    "invalid UTF-8": (b'{"resourceType":"Patient","name":[{"family":"\xc3\x28"}]}',
                      "the body is not UTF-8 (byte 45)"),
    "truncated": (GOOD, "the body is not JSON"),
}  # fmt: skip


def _as_bundle(raw: bytes | str) -> bytes:
    inner = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return (b'{"resourceType":"Bundle","type":"transaction","entry":[{"resource":'
            + inner + b',"request":{"method":"POST","url":"Patient"}}]}')  # fmt: skip


@pytest.mark.parametrize("endpoint", ["create", "update", "transaction"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_r_int_4_malformed_bodies_are_400_operation_outcomes(api, endpoint, case):
    raw, words = MALFORMED[case]
    if endpoint == "transaction":
        resp = api.send("post", "", _as_bundle(raw))
        words = words.replace("Patient.", "Bundle.entry[0].resource.")
    else:
        resp = api.send(*(("post", "Patient") if endpoint == "create"
                          else ("put", "Patient/W1")), raw)  # fmt: skip
    assert resp.status_code == 400, resp.content[:300]
    assert resp["Content-Type"].startswith("application/fhir+json")
    issue = resp.json()["issue"][0]
    assert issue["code"] == "invalid"
    if case == "invalid UTF-8" and endpoint == "transaction":
        words = "the body is not UTF-8 (byte 112)"
    assert words in issue["diagnostics"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("content_type", "words"),
    [
        ("application/fhir+xml", "Content-Type 'application/fhir+xml' is not supported"),
        ("text/plain", "Content-Type 'text/plain' is not supported"),
        ("application/fhir+json; charset=iso-8859-1",
         "charset 'iso-8859-1' is not supported; FHIR JSON is UTF-8"),
    ],
)  # fmt: skip
def test_r_int_4_a_body_that_is_not_fhir_json_is_415(
    api, facility, content_type, words
):
    for method, path in (("post", "Patient"), ("put", "Patient/W1"), ("post", "")):
        resp = api.send(method, path, patient(facility), content_type=content_type)
        assert resp.status_code == 415
        issue = resp.json()["issue"][0]
        assert (issue["code"], issue["diagnostics"].startswith(words)) == (
            "not-supported", True)  # fmt: skip
    assert not Patient.objects.exists()
    ok = api.send("post", "Patient", patient(facility), content_type="application/json")
    assert ok.status_code == 201


# --- versions: meta.versionId, ETag, If-Match, vread, _history -------------------


def _version(resp) -> str:
    return resp.json()["meta"]["versionId"]


def test_r_int_4_every_served_resource_has_a_version_and_last_updated(
    api, him, facility, chart_patient, encounter
):
    from recordroom.records.models import Condition

    Condition.objects.create(patient=chart_patient, encounter=encounter,
                             code_system="http://hl7.org/fhir/sid/icd-10-cm", code="J18.9",
                             display="Pneumonia")  # fmt: skip
    factories.document(patient=chart_patient, facility=facility, encounter=encounter)
    api.send("post", "Practitioner", {"resourceType": "Practitioner",
             "name": [{"family": "Mbeki"}]})  # fmt: skip
    pid = str(chart_patient.pk)
    for rtype, params in [
        ("Patient", {"_id": pid}), ("Encounter", {"patient": pid}),
        ("Condition", {"patient": pid}), ("DocumentReference", {"patient": pid}),
        ("Practitioner", {"family": "Mbeki"}),
        ("Provenance", {"patient": pid}),
    ]:  # fmt: skip
        bundle = api.get(rtype, **params).json()
        assert bundle["entry"], rtype
        for entry in bundle["entry"]:
            meta = entry["resource"]["meta"]
            assert meta["versionId"].isdigit(), rtype
            assert meta["lastUpdated"] > "2000-01-01T00:00:00", rtype
    read = api.get(f"Patient/{pid}")
    assert read["ETag"] == f'W/"{_version(read)}"'
    assert read["Last-Modified"].endswith(" GMT")


def test_r_int_4_a_change_by_any_path_is_a_new_version_and_if_match_catches_it(
    api, facility
):
    """An HL7 feed or a clerk changes the chart between a client's read and its
    update: the client's If-Match names the old version and is refused (412)."""
    from recordroom.mpi.services import NameIn, change_legal_name

    created = api.send("post", "Patient", patient(facility))
    pid, v1 = created.json()["id"], _version(created)
    assert created["ETag"] == f'W/"{v1}"'
    read = api.get(f"Patient/{pid}")
    assert (read["ETag"], _version(read)) == (f'W/"{v1}"', v1)
    p = Patient.objects.get(pk=pid)
    change_legal_name(actor=factories.SYSTEM, patient=p,
                      new=NameIn(family="Adeyemi-Cole", given="Folake"))  # fmt: skip
    v2 = _version(api.get(f"Patient/{pid}"))
    assert int(v2) > int(v1)
    stale = api.send("put", f"Patient/{pid}", {**patient(facility, family="Client"),
                     "id": pid}, **{"If-Match": f'W/"{v1}"'})  # fmt: skip
    assert stale.status_code == 412
    issue = stale.json()["issue"][0]
    assert issue["code"] == "conflict"
    assert (
        f'is not the current version of Patient/{pid} (it is W/"{v2}")'
        in (issue["diagnostics"])
    )
    assert _legal_family(pid) == "Adeyemi-Cole"
    fresh = api.send("put", f"Patient/{pid}", {**patient(facility, family="Client"),
                     "id": pid}, **{"If-Match": f'W/"{v2}"'})  # fmt: skip
    assert fresh.status_code == 200, fresh.content
    v3 = _version(fresh)
    assert int(v3) > int(v2) and fresh["ETag"] == f'W/"{v3}"'
    assert fresh["Location"].endswith(f"/Patient/{pid}/_history/{v3}")
    assert _legal_family(pid) == "Client"


def test_r_int_4_an_encounter_updated_outside_fhir_changes_version(
    api, chart_patient, encounter
):
    from recordroom.records.models import Encounter

    before = api.get(f"Encounter/{encounter.pk}")
    assert _version(before) == "1"
    Encounter.objects.filter(pk=encounter.pk).update(status="cancelled")
    after = api.get(f"Encounter/{encounter.pk}")
    assert _version(after) == "2"
    assert after.json()["meta"]["lastUpdated"] >= before.json()["meta"]["lastUpdated"]


def test_r_int_4_vread_and_history(api, facility, chart_patient):
    from fhir.resources.R4B.bundle import Bundle

    from recordroom.mpi.services import update_patient

    pid = str(chart_patient.pk)
    update_patient(actor=factories.SYSTEM, patient=chart_patient,
                   changes={"sex": "male"})  # fmt: skip
    now = _version(api.get(f"Patient/{pid}"))
    got = api.get(f"Patient/{pid}/_history/{now}")
    assert got.status_code == 200 and got.json()["gender"] == "male"
    assert got["ETag"] == f'W/"{now}"'
    gone = api.get(f"Patient/{pid}/_history/1")
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["diagnostics"].startswith(
        f"Patient/{pid} version 1 is no longer kept: only the current version, {now}, "
        "can be read"
    )
    assert api.get(f"Patient/{pid}/_history/99").status_code == 404
    hist = api.get(f"Patient/{pid}/_history")
    assert hist.status_code == 200
    body = hist.json()
    Bundle.model_validate(body)
    assert (body["type"], body["total"]) == ("history", 1)
    entry = body["entry"][0]
    assert entry["resource"]["id"] == pid
    assert entry["response"]["etag"] == f'W/"{now}"'
    nobody = "00000000-0000-4000-8000-000000000000"
    assert api.get(f"Patient/{nobody}/_history").status_code == 404
    events = AuditEvent.objects.filter(action="chart.open", patient_id=pid)
    assert events.count() >= 3  # each read of a version opened the chart


def test_r_int_4_the_capability_statement_says_how_versions_are_kept(db):
    from django.test import Client

    body = Client().get(BASE + "metadata").json()
    patient_entry = next(r for r in body["rest"][0]["resource"]
                         if r["type"] == "Patient")  # fmt: skip
    assert patient_entry["versioning"] == "versioned-update"
    assert patient_entry["readHistory"] is False
    assert patient_entry["updateCreate"] is False
    assert {"vread", "history-instance"} <= {
        i["code"] for i in patient_entry["interaction"]}  # fmt: skip


# --- update-as-create: ids are ours ------------------------------------------------


def test_r_int_4_put_to_an_id_we_do_not_know_is_405_and_creates_nothing(api, facility):
    body = {**patient(facility), "id": "client-7"}
    resp = api.send("put", "Patient/client-7", body)
    assert resp.status_code == 405
    issue = resp.json()["issue"][0]
    assert issue["code"] == "not-supported"
    assert issue["diagnostics"].startswith(
        "PUT Patient/client-7: there is no Patient with this id here, and Recordroom "
        "assigns ids itself"
    )
    assert not Patient.objects.exists()
    assert api.send("put", "Patient/client-7", body,
                    **{"If-Match": 'W/"1"'}).status_code == 412  # fmt: skip


def test_r_int_4_put_to_the_id_a_client_sent_before_updates_that_resource(
    api, facility
):
    first = api.send("post", "Patient", {**patient(facility), "id": "client-7"})
    pid = first.json()["id"]
    resp = api.send("put", "Patient/client-7",
                    {**patient(facility, family="Renamed"), "id": "client-7"})  # fmt: skip
    assert resp.status_code == 200, resp.content
    assert resp.json()["id"] == pid
    assert _legal_family(pid) == "Renamed"
    assert Patient.objects.count() == 1


# --- reads inside a batch ---------------------------------------------------------


def test_r_int_4_reads_inside_a_batch_return_the_resource_and_the_searchset(
    api, facility, other_facility, chart_patient
):
    pid = str(chart_patient.pk)
    elsewhere = str(factories.patient(facility=other_facility).pk)
    mrn = chart_patient.identifiers.get(kind="MR")
    nobody = "00000000-0000-4000-8000-000000000000"
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        {"request": {"method": "GET",
                     "url": f"Patient?identifier={mrn.system}|{mrn.value}"}},
        {"request": {"method": "GET", "url": f"Patient/{nobody}"}},
        {"resource": patient(facility), "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": f"http://testserver{BASE}Patient/{pid}/_history"}},
        {"request": {"method": "GET", "url": "metadata"}},
        {"request": {"method": "GET", "url": f"Patient/{elsewhere}"}},
    ]}  # fmt: skip
    resp = api.send("post", "", bundle)
    assert resp.status_code == 200, resp.content
    entries = resp.json()["entry"]
    read, found, missing, created, history, meta, refused = entries
    assert read["response"]["status"] == "200 OK"
    assert read["resource"]["id"] == pid
    assert read["fullUrl"] == f"http://testserver{BASE}Patient/{pid}"
    assert read["response"]["etag"] == f'W/"{read["resource"]["meta"]["versionId"]}"'
    assert found["resource"]["type"] == "searchset" and found["resource"]["total"] == 1
    assert found["resource"]["entry"][0]["resource"]["id"] == pid
    assert missing["response"]["status"] == "404 Not Found"
    assert nobody in missing["response"]["outcome"]["issue"][0]["diagnostics"]
    assert created["response"]["status"] == "201 Created"
    assert history["resource"]["type"] == "history"
    assert meta["response"]["status"] == "400 Bad Request"
    # Each read opened the chart, as the same GET on its own does.
    assert AuditEvent.objects.filter(action="chart.open", patient_id=pid).count() >= 2
    assert refused["response"]["status"] == "404 Not Found"  # out of scope: absent
    assert AuditEvent.objects.get(action="access.denied").patient_id == elsewhere


def test_r_int_4_a_failed_read_fails_a_transaction_and_writes_nothing(
    api, facility, other_facility
):
    elsewhere = str(factories.patient(facility=other_facility).pk)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient(facility), "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": f"Patient/{elsewhere}"}},
    ]}  # fmt: skip
    resp = api.send("post", "", bundle)
    assert resp.status_code == 404
    assert resp.json()["issue"][0]["diagnostics"].startswith("entry 1 (GET): ")
    assert list(Patient.objects.values_list("pk", flat=True)) == [UUID(elsewhere)]
    assert not AuditEvent.objects.filter(action="interop.write").exists()
    assert AuditEvent.objects.get(action="access.denied").detail.find(elsewhere) >= 0


def test_r_int_4_an_hl7_a08_between_read_and_put_makes_if_match_stale(api, facility):
    """The interface engine's update and the ADT feed's rename meet: the FHIR
    client's stale If-Match is refused and the feed's name stands."""
    from recordroom.interop.hl7v2.services import handle
    from tests.interop.hl7v2.test_services import adt

    assert handle(adt(mrn="M7001", facility=facility.code)).code == "AA"
    pid = str(Patient.objects.get().pk)
    read = api.get(f"Patient/{pid}")
    ack = handle(adt(event="A08", control="C2", mrn="M7001", name="ROE^JANE^Q",
                     facility=facility.code))  # fmt: skip
    assert ack.code == "AA", ack.text
    now = api.get(f"Patient/{pid}")
    assert int(_version(now)) > int(_version(read))
    body = {**read.json(), "birthDate": "1980-02-01"}
    resp = api.send("put", f"Patient/{pid}", body, **{"If-Match": read["ETag"]})
    assert resp.status_code == 412
    assert _legal_family(pid) == "ROE"


def test_r_int_4_if_match_in_a_bundle_is_checked_per_entry(api, facility):
    one = api.send("post", "Patient", patient(facility, mrn="A1", family="One"))
    two = api.send("post", "Patient", patient(facility, mrn="A2", family="Two"))
    ids = [r.json()["id"] for r in (one, two)]
    Patient.objects.filter(pk=ids[0]).update(is_vip=True)  # one changes meanwhile

    def put(n: int, family: str, etag: str) -> dict:
        body = {**patient(facility, mrn=f"A{n + 1}", family=family), "id": ids[n]}
        return {"resource": body, "request": {"method": "PUT",
                "url": f"Patient/{ids[n]}", "ifMatch": etag}}  # fmt: skip

    entries = [put(0, "Stale", one["ETag"]), put(1, "Fresh", two["ETag"])]
    stale = api.send("post", "", {"resourceType": "Bundle", "type": "transaction",
                                  "entry": entries})  # fmt: skip
    assert stale.status_code == 412
    assert stale.json()["issue"][0]["diagnostics"].startswith(
        f"entry 0 (PUT Patient/{ids[0]}): If-Match"
    )
    assert (_legal_family(ids[0]), _legal_family(ids[1])) == ("One", "Two")
    batch = api.send("post", "", {"resourceType": "Bundle", "type": "batch",
                                  "entry": entries}).json()["entry"]  # fmt: skip
    assert [e["response"]["status"] for e in batch] == [
        "412 Precondition Failed", "200 OK"]  # fmt: skip
    assert (_legal_family(ids[0]), _legal_family(ids[1])) == ("One", "Fresh")


def test_r_int_4_a_binary_is_version_1_for_good(api, chart_patient, facility):
    doc = factories.document(patient=chart_patient, facility=facility)
    version = doc.versions.get()
    got = api.get(f"Binary/{version.pk}", headers={"Accept": "application/fhir+json"})
    body = got.json()
    assert body["meta"]["versionId"] == "1" and got["ETag"] == 'W/"1"'
    assert body["meta"]["lastUpdated"].startswith(
        version.created_at.strftime("%Y-%m-%d")
    )
    assert api.get(f"Binary/{version.pk}")["ETag"] == 'W/"1"'


def test_r_int_4_a_poll_with_if_none_match_is_304_until_the_resource_changes(
    api, chart_patient
):
    from recordroom.mpi.services import update_patient

    pid = str(chart_patient.pk)
    first = api.get(f"Patient/{pid}")
    same = api.get(f"Patient/{pid}", headers={"If-None-Match": first["ETag"]})
    assert (same.status_code, same.content, same["ETag"]) == (304, b"", first["ETag"])
    since = api.get(
        f"Patient/{pid}", headers={"If-Modified-Since": first["Last-Modified"]}
    )
    assert since.status_code == 304
    update_patient(actor=factories.SYSTEM, patient=chart_patient,
                   changes={"sex": "male"})  # fmt: skip
    changed = api.get(f"Patient/{pid}", headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200 and changed.json()["gender"] == "male"
    assert changed["ETag"] != first["ETag"]


def test_r_int_4_every_watched_table_keeps_its_version_triggers_after_migrate(db):
    """A SQLite table rebuilt by a later migration (AlterField) loses its triggers
    without a word: every table a FHIR resource is read from must still bump it."""
    import importlib

    from django.db import connection

    spec = importlib.import_module(
        "recordroom.interop.migrations.0006_fhir_resource_versions"
    )
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT c.relname FROM pg_trigger t JOIN pg_class c "
                        "ON c.oid = t.tgrelid WHERE t.tgname LIKE '%%_fhir_%%'")  # fmt: skip
        else:
            cur.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                        "AND name LIKE '%_fhir_%'")  # fmt: skip
        guarded = {row[0] for row in cur.fetchall()}
    watched = {table for table, *_ in spec.WATCHED}
    assert watched - guarded == set()
