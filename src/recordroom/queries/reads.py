"""What the query desk's adapters share (API, pages, CLI): a query opened with its
read audited as a look at the patient's record, a list's reads audited per patient,
and a query as plain data."""

from __future__ import annotations

from typing import Any

from recordroom.audit.services import EventSpec, record, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor

from . import services
from .models import Query

CAPABILITY = "raise_queries"
# the provider answers with the capability to sign their documents
PROVIDER_CAPABILITY = "sign_document"


def open_query(actor: Actor, query_id: Any, *, part: str) -> Query:
    q = services.get_query(user=actor.user, query_id=query_id)
    record(actor=actor, action=actions.CHART_OPEN.name, patient=q.patient_id, obj=q,
           detail={"query": q.number, "part": part})  # fmt: skip
    return q


def audit_listed(actor: Actor, worklist: str, patient_ids: list[Any]) -> None:
    """A list shows names: each listed patient finds the read in their log."""
    record_many([EventSpec(actor, actions.PATIENT_SEARCH.name,
                           detail={"worklist": worklist, "results": len(patient_ids)})]
                + [EventSpec(actor, actions.CHART_OPEN.name, pid,
                             detail={"worklist": worklist, "listed": True})
                   for pid in dict.fromkeys(patient_ids)])  # fmt: skip


def patient_name(q: Query) -> str:
    name = q.patient.legal_name()
    return name.display if name else "(no name)"


def as_dict(q: Query, *, indicators: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": q.pk, "number": q.number, "patient_id": q.patient_id,
        "encounter_id": q.encounter_id, "account_number": q.encounter.account_number,
        "facility": q.facility.code, "provider_id": q.provider_id,
        "provider": str(q.provider), "document_id": q.document_id,
        "template": q.template.code if q.template else None, "format": q.format,
        "purpose": q.purpose, "yes_no_ground": q.yes_no_ground, "question": q.question,
        "options": q.options, "verbal": q.verbal, "status": q.status,
        "raised_at": q.raised_at, "raised_by": q.raised_by_name or q.raised_by,
        "due_at": q.due_at, "escalation_level": q.escalation_level,
        "answer": q.answer, "answer_text": q.answer_text, "comment": q.comment,
        "agreed": q.agreed, "answered_at": q.answered_at,
        "hours_to_answer": q.hours_to_answer,
        "answer_document_id": q.answer_document_id,
        "answer_version": q.answer_version.number if q.answer_version else None,
        "deficiency_id": q.deficiency_id, "withdrawn_reason": q.withdrawn_reason,
    }  # fmt: skip
    if indicators:
        out["indicators"] = [
            {"kind": i.kind, "label": i.label, "value": i.value, "units": i.units,
             "reference_range": i.reference_range, "flags": i.flags,
             "effective_at": i.effective_at, "source": i.source,
             "document_id": i.document_id,
             "version": i.version.number if i.version else None, "page": i.page,
             "observation_id": i.observation_id,
             "prior_encounter": i.prior_encounter}
            for i in q.indicators.select_related("version")]  # fmt: skip
    return out
