"""The audit trail over the API, the patient access log, and the FHIR R4 AuditEvent
export (R-SEC-2): every read of the trail is itself audited."""

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections

from recordroom.audit.api import ndjson_export
from recordroom.audit.fhir import to_fhir
from recordroom.audit.models import AuditEvent
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from tests import factories

from .conftest import api_for
from .fhir_r4 import problems

CONFORMANCE = Path(os.environ.get("RECORDROOM_CONFORMANCE_DATA", "../shared/testdata"))


@pytest.fixture
def auditor(db, facility):
    return factories.user("audit1", "auditor", facilities=[facility])


@pytest.fixture
def privacy(db, facility):
    return factories.user("privacy1", "privacy_officer", facilities=[facility])


def ndjson(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


# --- /audit/events ----------------------------------------------------------------------


def test_events_page_in_chain_order_with_filters_and_the_read_is_audited_as_a_view(
    auditor, him_api, patient
):
    him_api.get(f"/patients/{patient.pk}")
    him_api.get("/patients", name="nunez")
    api = api_for(auditor)
    first = api.get("/audit/events", limit=2).json()
    assert [e["id"] for e in first["items"]] == [1, 2]
    assert first["next"] == 2
    rest = api.get("/audit/events", after=first["next"], limit=1000).json()
    assert rest["items"][0]["id"] == 3 and rest["next"] is None
    opened = api.get("/audit/events", action="chart.open", user="him1").json()["items"]
    assert [(e["action"], e["patient_id"]) for e in opened] == [
        ("chart.open", str(patient.pk))
    ]
    assert opened[0]["detail"] == {"part": "demographics"}
    assert opened[0]["channel"] == "api" and len(opened[0]["hash"]) == 64
    about = api.get("/audit/events", patient=str(patient.pk)).json()["items"]
    assert {e["action"] for e in about} == {"patient.create", "chart.open"}
    viewed = AuditEvent.objects.filter(action="audit.view").order_by("-id").first()
    assert json.loads(viewed.detail) == {
        "after": None, "count": 2, "format": "json",
        "filters": {"patient": str(patient.pk)},
    }  # fmt: skip
    assert (viewed.username, viewed.outcome) == ("audit1", "success")
    assert AuditEvent.objects.filter(action="audit.view").count() == 4
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_unknown_action_filter_is_422_naming_it(auditor):
    response = api_for(auditor).get("/audit/events", action="chart.peek")
    assert (response.status_code, response.json()["field"]) == (422, "action")
    assert "unknown audit action 'chart.peek'" in response.json()["message"]


def test_time_range_filters(auditor):
    actor = Actor(channel="test", name="tester")
    early = record(actor=actor, action=actions.PATIENT_SEARCH.name)
    late = record(actor=actor, action=actions.PATIENT_SEARCH.name)
    since = datetime.fromtimestamp(late.ts / 1_000_000, tz=UTC).isoformat()
    items = api_for(auditor).get("/audit/events", since=since).json()["items"]
    assert early.id not in [e["id"] for e in items] and items[0]["id"] == late.id
    before = api_for(auditor).get("/audit/events", until=since).json()["items"]
    assert late.id not in [e["id"] for e in before]


def test_ndjson_export_streams_fhir_audit_events_and_is_audited(
    auditor, him_api, patient
):
    him_api.get(f"/patients/{patient.pk}")
    api = api_for(auditor)
    expected = AuditEvent.objects.count()
    response = api.get("/audit/events.ndjson")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/fhir+ndjson"
    resources = ndjson(response)
    assert len(resources) == expected
    assert {r["resourceType"] for r in resources} == {"AuditEvent"}
    assert [int(r["id"]) for r in resources] == sorted(int(r["id"]) for r in resources)
    for resource in resources:
        assert problems(resource) == [], resource
    export = AuditEvent.objects.order_by("-id").first()
    assert export.action == "audit.export" and export.outcome == "success"
    assert json.loads(export.detail) == {
        "count": expected, "filters": {}, "format": "fhir-ndjson",
    }  # fmt: skip


def test_ndjson_export_of_a_range(auditor, him_api, patient):
    him_api.get(f"/patients/{patient.pk}")
    response = api_for(auditor).get(
        "/audit/events.ndjson", action="chart.open", patient=str(patient.pk)
    )
    (only,) = ndjson(response)
    assert only["entity"][0]["what"]["reference"] == f"Patient/{patient.pk}"
    export = AuditEvent.objects.order_by("-id").first()
    assert json.loads(export.detail)["filters"] == {
        "action": "chart.open", "patient": str(patient.pk),
    }  # fmt: skip


# --- the patient's access log -----------------------------------------------------------


def test_access_log_lists_who_saw_the_record_newest_first_and_is_audited(
    privacy, him_api, patient
):
    him_api.get(f"/patients/{patient.pk}")
    him_api.get(f"/patients/{patient.pk}/documents")
    api = api_for(privacy)
    page = api.get(f"/patients/{patient.pk}/access-log", limit=2).json()
    assert [(e["action"], e["username"]) for e in page["items"]] == [
        ("chart.open", "him1"), ("chart.open", "him1"),
    ]  # fmt: skip
    assert page["items"][0]["detail"] == {"part": "documents"}
    rest = api.get(f"/patients/{patient.pk}/access-log", after=page["next"]).json()
    assert [e["action"] for e in rest["items"]] == ["patient.create"]
    logged = AuditEvent.objects.order_by("-id").first()
    assert (logged.action, logged.patient_id, logged.username) == (
        "chart.access_log", str(patient.pk), "privacy1",
    )  # fmt: skip


def test_access_log_ndjson(privacy, him_api, patient):
    him_api.get(f"/patients/{patient.pk}")
    response = api_for(privacy).get(f"/patients/{patient.pk}/access-log.ndjson")
    assert response["Content-Type"] == "application/fhir+ndjson"
    resources = ndjson(response)
    assert [r["subtype"][0]["code"] for r in resources] == [
        "patient.create",
        "chart.open",
    ]
    assert all(problems(r) == [] for r in resources)
    logged = AuditEvent.objects.order_by("-id").first()
    assert logged.action == "chart.access_log"
    assert json.loads(logged.detail) == {"count": 2, "format": "fhir-ndjson"}


def test_access_log_of_a_patient_outside_scope_is_refused_and_audited(
    privacy, other_facility
):
    stranger = factories.patient(facility=other_facility, family="Ito", given="Ken")
    response = api_for(privacy).get(f"/patients/{stranger.pk}/access-log")
    assert response.status_code == 403
    logged = AuditEvent.objects.order_by("-id").first()
    assert (logged.action, logged.outcome) == ("chart.access_log", "denied")


# --- the FHIR mapping -------------------------------------------------------------------


def _event(action, **kw) -> AuditEvent:
    actor = kw.pop("actor", None) or Actor(
        channel="api", client_address="10.1.2.3", request_id="req-9", purpose="TREAT",
        name="clerk",
    )  # fmt: skip
    return record(actor=actor, action=action, **kw)


def test_fhir_mapping_of_a_chart_read(him, patient):
    event = _event(
        actions.CHART_OPEN.name,
        actor=Actor(user=him, channel="api", client_address="10.1.2.3", purpose="TREAT"),
        patient=patient, obj=patient, detail={"part": "demographics"},
    )  # fmt: skip
    r = to_fhir(event)
    assert problems(r) == []
    assert r["type"] == {
        "system": "http://dicom.nema.org/resources/ontology/DCM",
        "code": "110110", "display": "Patient Record",
    }  # fmt: skip
    assert r["subtype"][0] == {
        "system": "urn:recordroom:audit-action", "code": "chart.open",
        "display": "A patient's chart was opened.",
    }  # fmt: skip
    assert (r["action"], r["outcome"]) == ("R", "0")
    assert r["recorded"] == event.at.isoformat(timespec="microseconds").replace(
        "+00:00", "Z"
    )
    (agent,) = r["agent"]
    assert agent["requestor"] is True
    assert agent["who"]["identifier"]["value"] == "him1"
    assert agent["network"] == {"address": "10.1.2.3", "type": "2"}
    assert agent["purposeOfUse"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT",
    }  # fmt: skip
    assert agent["role"] == [{"text": "HIM specialist"}]
    assert r["source"]["observer"] == {"display": "Recordroom"}
    patient_entity, object_entity = r["entity"]
    assert patient_entity["what"] == {"reference": f"Patient/{patient.pk}"}
    assert object_entity["what"]["identifier"] == {
        "system": "urn:recordroom:mpi.patient", "value": str(patient.pk),
    }  # fmt: skip
    assert object_entity["detail"] == [
        {"type": "detail", "valueString": '{"part":"demographics"}'}
    ]
    chain = r["extension"][0]
    assert chain["url"] == "urn:recordroom:audit-chain"
    assert chain["extension"] == [
        {"url": "prevHash", "valueString": event.prev_hash},
        {"url": "hash", "valueString": event.hash},
    ]


@pytest.mark.parametrize(
    ("action", "outcome", "type_code", "code", "fhir_outcome"),
    [
        (actions.LOGIN.name, "success", "110114", "E", "0"),
        (actions.LOGIN_FAILED.name, "denied", "110114", "E", "4"),
        (actions.DOCUMENT_CREATE.name, "success", "110110", "C", "0"),
        (actions.PATIENT_UPDATE.name, "success", "110110", "U", "0"),
        (actions.PATIENT_SEARCH.name, "success", "110110", "E", "0"),
        (actions.DOCUMENT_PRINT.name, "success", "110110", "E", "0"),
        (actions.DOCUMENT_INTEGRITY.name, "failure", "110110", "R", "8"),
        (actions.AUDIT_EXPORT.name, "success", "110101", "E", "0"),
        (actions.AUDIT_VIEW.name, "success", "110101", "R", "0"),
        (actions.USER_CREATED.name, "success", "110137", "C", "0"),
    ],
)
def test_fhir_action_type_and_outcome_codes(
    db, action, outcome, type_code, code, fhir_outcome
):
    r = to_fhir(_event(action, outcome=outcome, detail={"reason": "bad password"}))
    assert problems(r) == []
    assert (r["type"]["code"], r["action"], r["outcome"]) == (
        type_code,
        code,
        fhir_outcome,
    )
    if outcome != "success":
        assert r["outcomeDesc"] == "bad password"


def test_fhir_login_carries_the_dicom_login_subtype_and_a_system_agent(db):
    r = to_fhir(_event(actions.LOGIN.name))
    assert r["subtype"][1]["code"] == "110122"
    assert r["agent"][0]["type"]["coding"][0]["code"] == "110150"  # no user row


def test_fhir_search_carries_its_query_base64(db):
    detail = {"query": {"name": "nunez"}, "results": 1}
    r = to_fhir(_event(actions.PATIENT_SEARCH.name, detail=detail))
    (entity,) = r["entity"]
    assert entity["role"]["code"] == "24"  # Query
    assert json.loads(base64.b64decode(entity["query"])) == detail


def test_the_hand_check_accepts_the_official_r4_auditevent_examples():
    folder = CONFORMANCE / "fhir-r4-examples"
    examples = sorted(folder.glob("AuditEvent-*.json"))
    if not examples:
        pytest.skip(
            f"no FHIR R4 examples at {folder} (set RECORDROOM_CONFORMANCE_DATA)"
        )
    for path in examples:
        resource = json.loads(path.read_text())
        assert problems(resource) == [], path.name


def test_an_export_cut_off_midway_is_audited_with_what_was_sent(db):
    actor = Actor(channel="test", name="tester")
    for _ in range(3):
        record(actor=actor, action=actions.PATIENT_SEARCH.name)
    reported = []
    response = ndjson_export(
        AuditEvent.objects.all(), audit=lambda n, done: reported.append((n, done))
    )
    stream = iter(response)
    json.loads(next(stream))
    # The client went away and the server closes the response (keeping the test
    # database connection open, as Django's test client does around its own close).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert reported == [(1, False)]
    whole = ndjson_export(
        AuditEvent.objects.all(), audit=lambda n, done: reported.append((n, done))
    )
    assert len(b"".join(whole).splitlines()) == 3 and reported[-1] == (3, True)
