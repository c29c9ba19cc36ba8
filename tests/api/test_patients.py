"""Patient search, demographics, registration and the chart lists over the API."""

from datetime import date

from recordroom.audit.models import AuditEvent
from recordroom.mpi.models import Patient
from recordroom.mpi.services import NameIn, change_legal_name
from tests import factories

from .conftest import api_for


def last_event(**filters) -> AuditEvent:
    return AuditEvent.objects.filter(**filters).order_by("-id").first()


# --- search -----------------------------------------------------------------------------


def test_search_by_partial_accentless_name_is_audited_with_query_and_count(
    him_api, patient
):
    response = him_api.get("/patients", name="nunez, jo")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (hit,) = body["items"]
    assert hit["id"] == str(patient.pk)
    assert hit["legal_name"] == "NÚÑEZ, José"
    assert hit["birth_date"] == "1980-04-02"
    assert hit["mrns"] == [{"facility": "NORTH", "value": "N100001"}]
    event = last_event(action="patient.search")
    assert event.username == "him1" and event.channel == "api"
    assert event.detail == '{"query":{"name":"nunez, jo"},"results":1}'


def test_search_by_mrn_ssn_last_four_birth_date_and_account(
    him_api, chart_patient, facility
):
    factories.encounter(patient=chart_patient, facility=facility, account="V555001")
    want = [str(chart_patient.pk)]
    for params in (
        {"identifier": "n200777"},
        {"ssn": "6789"},
        {"birth_date": "1990-01-01"},
        {"account": "V555001"},
    ):
        response = him_api.get("/patients", **params)
        assert [h["id"] for h in response.json()["items"]] == want, params
    event = last_event(action="patient.search")
    assert '"account":"V555001"' in event.detail


def test_search_ssn_is_masked_in_the_audit_trail(him_api, chart_patient):
    him_api.get("/patients", ssn="123-45-6789")
    assert '"ssn":"***6789"' in last_event(action="patient.search").detail


def test_search_outside_the_users_facilities_finds_nothing(him_api, other_facility):
    factories.patient(facility=other_facility, family="Nunez", given="Jorge")
    assert him_api.get("/patients", name="nunez").json()["count"] == 0


def test_empty_search_is_422_saying_what_to_give(him_api):
    response = him_api.get("/patients")
    assert response.status_code == 422
    assert "give a name, birth date" in response.json()["message"]


def test_bad_search_parameters_are_422_naming_them(him_api):
    response = him_api.get("/patients", birth_date="1980-13-45", limit=0)
    assert response.status_code == 422
    body = response.json()
    assert {e["field"] for e in body["errors"]} == {"birth_date", "limit"}
    assert "birth_date:" in body["message"] and "limit:" in body["message"]
    short_ssn = him_api.get("/patients", ssn="12")
    assert (short_ssn.status_code, short_ssn.json()["field"]) == (422, "ssn")


# --- demographics -----------------------------------------------------------------------


def test_demographics_with_history_masked_ssn_and_audit(him_api, chart_patient, him):
    change_legal_name(
        actor=factories.actor(him), patient=chart_patient,
        new=NameIn(family="Okafor-Bello", given="Adaeze"), effective=date(2024, 2, 1),
    )  # fmt: skip
    response = him_api.get(f"/patients/{chart_patient.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["legal_name"] == "OKAFOR-BELLO, Adaeze"
    assert body["flags"] == ["VIP"]
    names = {(n["use"], n["family"], n["period"]["end"]) for n in body["names"]}
    assert names == {
        ("legal", "Okafor-Bello", None),
        ("previous", "Okafor", "2024-02-01"),
        ("previous", "Eze", "2015-06-20"),
    }
    idents = {i["kind"]: i for i in body["identifiers"]}
    assert idents["MR"]["value"] == "N200777" and idents["MR"]["facility"] == "NORTH"
    assert idents["SS"]["value"] == "***-**-6789"
    assert "123-45-6789" not in response.content.decode()
    assert idents["SS"]["system"] == "http://hl7.org/fhir/sid/us-ssn"
    old = [a for a in body["addresses"] if a["period"]["end"]]
    assert old[0]["city"] == "Lowell" and old[0]["period"]["end"] == "2019-03-31"
    assert body["telecoms"][0]["value"] == "978-555-0142"
    event = last_event(action="chart.open")
    assert (event.patient_id, event.username) == (str(chart_patient.pk), "him1")
    # the chart is a VIP's; him1 reads it through a grant, and the read says so
    assert event.detail == '{"label_access":"grant","part":"demographics"}'


def test_unknown_patient_is_404_and_a_malformed_id_is_422_naming_it(him_api):
    missing = him_api.get("/patients/01890000-0000-7000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert "01890000-0000-7000-8000-000000000000" in missing.json()["message"]
    malformed = him_api.get("/patients/not-a-uuid")
    assert malformed.status_code == 422
    assert malformed.json()["field"] == "patient_id"


def test_patient_outside_scope_is_403_and_the_attempt_is_audited(
    him_api, other_facility
):
    stranger = factories.patient(facility=other_facility, family="Ito", given="Ken")
    response = him_api.get(f"/patients/{stranger.pk}")
    assert response.status_code == 403
    assert "has no record at your facilities" in response.json()["message"]
    event = last_event(action="chart.open")
    assert (event.outcome, event.patient_id) == ("denied", str(stranger.pk))


# --- registration -----------------------------------------------------------------------


NEW_PATIENT = {
    "names": [{"family": "Lindqvist", "given": "Maja", "middle": "E"}],
    "birth_date": "1972-11-30",
    "sex": "female",
    "identifiers": [
        {"kind": "MR", "value": "N300123", "facility": "NORTH"},
        {"kind": "SS", "value": "987-65-4321"},
    ],
    "addresses": [
        {
            "line1": "7 Birch Ave",
            "city": "Duluth",
            "state": "MN",
            "postal_code": "55802",
        }
    ],
    "telecoms": [{"system": "email", "use": "home", "value": "maja@example.org"}],
    "is_employee": True,
}


def test_register_patient_returns_201_and_the_chart_reads_back(him_api, facility):
    response = him_api.post("/patients", NEW_PATIENT)
    assert response.status_code == 201
    patient_id = response.json()["id"]
    body = him_api.get(f"/patients/{patient_id}").json()
    assert body["legal_name"] == "LINDQVIST, Maja E"
    assert body["flags"] == ["Employee"]
    assert {i["value"] for i in body["identifiers"]} == {"N300123", "***-**-4321"}
    created = last_event(action="patient.create")
    assert created.patient_id == patient_id and created.username == "him1"


def test_malformed_json_is_400_naming_the_problem(him_api, facility):
    response = him_api.post("/patients", raw='{"names": [')
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed_json" and body["field"] == "body"
    assert "not valid JSON" in body["message"] and "line 1" in body["message"]
    assert Patient.objects.count() == 0


def test_invalid_body_is_422_naming_each_field_and_writes_nothing(him_api, facility):
    body = {
        "names": [{"given": "Maja"}],
        "sex": "robot",
        "birth_date": "yesterday",
        "nickname": "M",
    }
    response = him_api.post("/patients", body)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"names.0.family", "sex", "birth_date", "nickname"} <= fields
    assert Patient.objects.count() == 0


def test_domain_errors_name_the_field(him_api, facility, other_facility):
    cases = [
        ({"identifiers": [{"kind": "MR", "value": "X1", "facility": "MOON"}]}, 422,
         "identifiers.0.facility", "unknown facility code 'MOON'"),
        ({"identifiers": [{"kind": "MR", "value": "X1"}]}, 422,
         "identifiers.facility", "an MRN needs its facility"),
        ({"identifiers": [{"kind": "SS", "value": "12-34"}]}, 422,
         "identifiers.value", "nine digits"),
        ({"birth_date": "2999-01-01"}, 422, "birth_date", "in the future"),
        ({"identifiers": [{"kind": "MR", "value": "S1", "facility": "SOUTH"}]}, 403,
         "identifiers.0.facility",
         "cannot register MRN 'S1': facility SOUTH (South General Hospital) is "
         "outside your facilities"),
    ]  # fmt: skip
    for extra, status, field, text in cases:
        body = {"names": [{"family": "Lindqvist"}], **extra}
        response = him_api.post("/patients", body)
        assert response.status_code == status, extra
        assert response.json()["field"] == field
        assert text in response.json()["message"]
    assert Patient.objects.count() == 0


def test_taken_mrn_is_refused(him_api, patient):
    body = {
        "names": [{"family": "Other"}],
        "identifiers": [{"kind": "MR", "value": "N100001", "facility": "NORTH"}],
    }
    response = him_api.post("/patients", body)
    assert response.status_code == 422
    assert "already belongs to another patient" in response.json()["message"]


# --- encounters and documents -----------------------------------------------------------


def test_encounters_page_newest_first_with_a_next_cursor(
    him_api, chart_patient, facility
):
    for days, account in ((30, "V1"), (20, "V2"), (10, "V3")):
        factories.encounter(
            patient=chart_patient, facility=facility, account=account, days_ago=days
        )
    first = him_api.get(f"/patients/{chart_patient.pk}/encounters", limit=2).json()
    assert [e["account_number"] for e in first["items"]] == ["V3", "V2"]
    assert first["items"][0]["facility"] == "NORTH"
    assert first["items"][0]["class_display"] == "Inpatient"
    second = him_api.get(
        f"/patients/{chart_patient.pk}/encounters", limit=2, after=first["next"]
    ).json()
    assert [e["account_number"] for e in second["items"]] == ["V1"]
    assert second["next"] is None
    event = last_event(action="chart.open")
    assert event.detail == '{"label_access":"grant","part":"encounters"}'


def test_documents_page_with_type_version_and_signed_flag(
    him_api, chart_patient, facility, encounter
):
    old = factories.document(patient=chart_patient, facility=facility, code="11506-3")
    new = factories.document(
        patient=chart_patient,
        facility=facility,
        encounter=encounter,
        sensitivity=["HIV"],
    )
    from recordroom.records.services import sign_version

    sign_version(
        actor=factories.SYSTEM, version=new.versions.get(), signer=factories.provider()
    )
    page = him_api.get(f"/patients/{chart_patient.pk}/documents", limit=1).json()
    (doc,) = page["items"]
    assert doc["id"] == str(new.pk)
    assert doc["type"] == {
        "system": "http://loinc.org", "code": "18842-5", "display": "Discharge summary",
    }  # fmt: skip
    assert (doc["version"], doc["signed"], doc["status"]) == (1, True, "final")
    assert (doc["sensitivity"], doc["source"]) == (["HIV"], "upload")
    assert doc["encounter"] == str(encounter.pk)
    rest = him_api.get(
        f"/patients/{chart_patient.pk}/documents", after=page["next"]
    ).json()
    assert [d["id"] for d in rest["items"]] == [str(old.pk)]
    assert rest["items"][0]["signed"] is False
    assert (
        last_event(action="chart.open").detail
        == '{"label_access":"grant","part":"documents"}'
    )  # him1 opens the VIP chart through a grant


def test_a_cursor_from_another_list_is_422(him_api, chart_patient, patient):
    response = him_api.get(
        f"/patients/{chart_patient.pk}/encounters", after=str(patient.pk)
    )
    assert response.status_code == 422
    assert response.json()["field"] == "after"


def test_documents_at_other_facilities_are_not_listed(
    chart_patient, facility, other_facility
):
    from recordroom.mpi.services import IdentifierIn, build_identifier

    build_identifier(
        chart_patient, IdentifierIn(kind="MR", value="S900", facility=other_facility)
    ).save()
    factories.document(patient=chart_patient, facility=other_facility)
    north_only = factories.grant_labels(  # the VIP chart opens; its facility no
        factories.user("north1", "coder", facilities=[facility]), "VIP"
    )
    listed = api_for(north_only).get(f"/patients/{chart_patient.pk}/documents").json()
    assert listed["items"] == []
