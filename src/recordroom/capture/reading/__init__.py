"""Reading a captured document: the values that identify it, the patient, visit and
type they point to, and whether it may file itself.

The pipeline calls only these three functions; each is replaced by a fuller reader
without the pipeline changing.
"""

from __future__ import annotations

from typing import Any

from recordroom.capture import cover
from recordroom.capture.types import (
    Decision,
    PageRead,
    PatientGuess,
    Proposal,
    TypeGuess,
    Value,
)


def read_values(pages: list[PageRead]) -> list[Value]:
    """What the pages say about whose document this is (reading.extract)."""
    from .extract import read_values as read

    return read(pages)


def propose(values: list[Value], pages: list[PageRead], *, facility: Any) -> Proposal:
    """The patient, visit and type the values point to (none, so far)."""
    return Proposal(
        patient=PatientGuess(None, 0.0, []),
        encounter_id=None,
        doc_type=TypeGuess(None, 0.0, []),
        service_date=None,
        values=values,
    )


def decide(proposal: Proposal, *, source: Any) -> Decision:
    """Whether the proposal may file itself (never, so far)."""
    return Decision(False, ["no reader has been configured"])
