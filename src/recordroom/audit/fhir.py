"""Audit events as FHIR R4 AuditEvent resources, and their NDJSON export (R-SEC-2).

The mapping follows the R4 AuditEvent element list and the DICOM audit vocabulary the
official examples use; the hash chain travels along as an extension so an export can
be checked against the trail it came from.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Generator, Iterable
from typing import Any

from recordroom.kernel import actions
from recordroom.kernel.actor import CLIENT_USER_PREFIX

from .models import AuditEvent, Outcome

DCM = "http://dicom.nema.org/resources/ontology/DCM"
ACTION_SYSTEM = "urn:recordroom:audit-action"
CHAIN_EXTENSION = "urn:recordroom:audit-chain"
CONTEXT_EXTENSION = "urn:recordroom:audit-context"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ROLE_TYPE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
MEDIA_TYPE = "application/fhir+ndjson"

# Event type by the action's domain (the part before the dot).
_TYPES: dict[str, tuple[str, str]] = {
    "auth": ("110114", "User Authentication"),
    "accounts": ("110137", "User Security Attributes Changed"),
    "audit": ("110101", "Audit Log Used"),
}
_PHI_TYPE = ("110110", "Patient Record")
# DICOM subtypes the official login/logout examples carry.
_DICOM_SUBTYPES = {
    "auth.login": ("110122", "Login"),
    "auth.logout": ("110123", "Logout"),
}
# ASTM E2147 action kind -> AuditEvent.action (C/R/U/D/E).
_ACTION_CODES = {
    "create": "C", "read": "R", "update": "U", "delete": "D",
    "query": "E", "export": "E", "print": "E", "login": "E",
}  # fmt: skip
_OUTCOMES: dict[str, str] = {
    Outcome.SUCCESS.value: "0",
    Outcome.DENIED.value: "4",
    Outcome.FAILURE.value: "8",
}


def _instant(event: AuditEvent) -> str:
    return event.at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _agent(event: AuditEvent) -> dict[str, Any]:
    # A system client's service user is an application, not a person.
    human = bool(event.user_id) and not event.username.startswith(CLIENT_USER_PREFIX)
    who = (
        event.username or f"<{event.channel or 'system'}>"
    )  # FHIR strings are never empty
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {"system": ROLE_TYPE, "code": "humanuser", "display": "human user"}
                if human
                else {"system": DCM, "code": "110150", "display": "Application"}
            ]
        },
        "who": {
            "identifier": {"system": "urn:recordroom:user", "value": who},
            "display": who,
        },
        "requestor": True,
    }
    if event.role:
        agent["role"] = [{"text": event.role}]
    if event.user_id:
        agent["altId"] = event.user_id
    agent["name"] = who
    if event.client_address:
        agent["network"] = {"address": event.client_address, "type": "2"}  # IP address
    if event.purpose:
        agent["purposeOfUse"] = [
            {"coding": [{"system": ACT_REASON, "code": event.purpose}]}
        ]
    return agent


def _entities(event: AuditEvent, kind: str, detail: str) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if event.patient_id:
        entities.append({
            "what": {"reference": f"Patient/{event.patient_id}"},
            "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
            "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
        })  # fmt: skip
    if event.object_type and event.object_id:
        entities.append({
            "what": {"identifier": {"system": f"urn:recordroom:{event.object_type}",
                                    "value": event.object_id}},
            "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
        })  # fmt: skip
    if kind == "query":
        # The query itself, as the R4 examples carry it (entity.query is base64).
        entities.append({
            "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
            "role": {"system": OBJECT_ROLE, "code": "24", "display": "Query"},
            "query": base64.b64encode(detail.encode()).decode(),
        })  # fmt: skip
    if detail and detail != "{}":
        if not entities:
            entities.append(
                {
                    "type": {
                        "system": ENTITY_TYPE,
                        "code": "2",
                        "display": "System Object",
                    }
                }
            )
        entities[-1]["detail"] = [{"type": "detail", "valueString": detail}]
    return entities


def to_fhir(event: AuditEvent) -> dict[str, Any]:
    """One audit event as a FHIR R4 AuditEvent resource (a JSON-ready dict)."""
    try:
        declared = actions.get(event.action)
        kind, help_text = declared.kind, declared.help
    except KeyError:  # an action retired since the event was written
        kind, help_text = "read", event.action
    domain = event.action.partition(".")[0]
    code, display = _TYPES.get(domain, _PHI_TYPE)
    subtype = [{"system": ACTION_SYSTEM, "code": event.action, "display": help_text}]
    if event.action in _DICOM_SUBTYPES:
        dcm_code, dcm_display = _DICOM_SUBTYPES[event.action]
        subtype.append({"system": DCM, "code": dcm_code, "display": dcm_display})
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.id),
        "extension": [
            {"url": CHAIN_EXTENSION, "extension": [
                {"url": "prevHash", "valueString": event.prev_hash},
                {"url": "hash", "valueString": event.hash},
            ]},
        ],
        "type": {"system": DCM, "code": code, "display": display},
        "subtype": subtype,
        "action": _ACTION_CODES.get(kind, "E"),
        "recorded": _instant(event),
        "outcome": _OUTCOMES.get(event.outcome, "8"),
        "agent": [_agent(event)],
        "source": {
            "observer": {"display": "Recordroom"},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
    }  # fmt: skip
    context = [("channel", event.channel), ("requestId", event.request_id)]
    if any(value for _, value in context):
        resource["extension"].append({
            "url": CONTEXT_EXTENSION,
            "extension": [{"url": k, "valueString": v} for k, v in context if v],
        })  # fmt: skip
    if event.facility_id:
        resource["source"]["site"] = event.facility_id
    if event.purpose:
        resource["purposeOfEvent"] = [
            {"coding": [{"system": ACT_REASON, "code": event.purpose}]}
        ]
    if event.outcome != Outcome.SUCCESS:
        reason = _outcome_reason(event.detail)
        if reason:
            resource["outcomeDesc"] = reason
    entities = _entities(event, kind, event.detail)
    if entities:
        resource["entity"] = entities
    return resource


def _outcome_reason(detail: str) -> str:
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return str(data.get("error") or data.get("reason") or "")


def iter_ndjson(events: Iterable[AuditEvent]) -> Generator[str, None, None]:
    """Yield one compact JSON line (ending in a newline) per event.

    A queryset is read with a streaming iterator in chunks, so a trail of any length
    is exported in bounded memory.
    """
    rows = events.iterator(chunk_size=2000) if hasattr(events, "iterator") else events
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for event in rows:
        yield dumps(to_fhir(event)) + "\n"
