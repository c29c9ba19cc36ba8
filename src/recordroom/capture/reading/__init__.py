"""Reading a captured document: the values that identify it, the patient, visit and
type they point to, and whether it may file itself.

The pipeline calls only these three functions (and classify.retrain); the work is in
extract (values), match and visit (patient, visit), classify (type) and autofile (the
rules and the decision: a submodule named `decide` would shadow the function).
"""

from __future__ import annotations

from typing import Any

from recordroom.capture import cover
from recordroom.capture.types import Decision, PageRead, Proposal, Value


def read_values(pages: list[PageRead]) -> list[Value]:
    """What the pages say about whose document this is (reading.extract)."""
    from .extract import read_values as read

    return read(pages)


def propose(values: list[Value], pages: list[PageRead], *, facility: Any) -> Proposal:
    """The patient, visit and type the values point to, and what flags the document.

    `facility` is the batch's (or its source's); a facility named on the page that is
    one of ours is used when the batch has none."""
    from .classify import guess_type
    from .flags import document_flags, facility_of
    from .match import guess_patient
    from .visit import guess_visit, service_date

    facility = facility or facility_of(values)
    patient = guess_patient(values, facility=facility)
    day = service_date(values)
    encounter, visit_evidence = guess_visit(
        patient.patient_id, values, facility=facility, day=day
    )
    if visit_evidence:
        patient = type(patient)(
            patient.patient_id, patient.confidence, [*patient.evidence, *visit_evidence],
            patient.candidates,
        )  # fmt: skip
    return Proposal(
        patient=patient,
        encounter_id=encounter,
        doc_type=guess_type(values, pages),
        service_date=day,
        values=values,
        flags=document_flags(values, pages, patient.patient_id, facility=facility),
    )


def decide(proposal: Proposal, *, source: Any) -> Decision:
    """Whether the proposal may file itself (reading.autofile)."""
    from .autofile import decide as decide_

    return decide_(proposal, source=source)


def evidence_json(proposal: Proposal) -> dict[str, Any]:
    """What a CaptureDocument keeps in `evidence`: the reasons shown to the indexer
    and the type proposed (classify.retrain counts a filed type that differs from it
    as an indexer's correction)."""
    return {
        "patient": proposal.patient.evidence,
        "candidates": [[str(pid), conf] for pid, conf in proposal.patient.candidates],
        "type": proposal.doc_type.evidence,
        "type_proposed": proposal.doc_type.code or "",
        "flags": proposal.flags,
    }


__all__ = ["cover", "decide", "evidence_json", "propose", "read_values"]
