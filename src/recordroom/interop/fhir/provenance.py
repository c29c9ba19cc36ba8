"""Provenance, derived from the audit trail: every create and update of a chart
resource is an audit event, so who made each version of a resource, when, from
which channel, is already known and tamper-evident."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from recordroom.audit.models import AuditEvent
from recordroom.kernel import actions

# Our object types (app_label.model) and the FHIR type each is served as.
TARGETS = {
    "mpi.patient": "Patient",
    "records.encounter": "Encounter",
    "records.document": "DocumentReference",
    "records.condition": "Condition",
    "records.procedure": "Procedure",
}
BY_FHIR = {v: k for k, v in TARGETS.items()}
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"


def _writes() -> list[str]:
    return [a.name for a in actions.all_actions() if a.kind in ("create", "update")]


def events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        action__in=_writes(), object_type__in=list(TARGETS)
    )


def to_fhir(event: AuditEvent) -> dict[str, Any]:
    kind = actions.get(event.action).kind if event.action else "update"
    who = event.username or f"<{event.channel or 'system'}>"
    return {
        "resourceType": "Provenance",
        "id": str(event.id),
        "target": [{"reference": f"{TARGETS[event.object_type]}/{event.object_id}"}],
        "recorded": event.at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "activity": {"coding": [{"system": DATA_OPERATION, "code": kind.upper()}]},
        "agent": [
            {
                "type": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                    "code": "author"}]},
                "who": {"identifier": {"system": "urn:recordroom:user", "value": who},
                        "display": who},
            }
        ],
        "entity": [{"role": "source", "what": {"identifier": {
            "system": "urn:recordroom:audit-event", "value": str(event.id)}}}],
        "reason": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            "code": event.purpose}]}] if event.purpose else [],
    }  # fmt: skip
