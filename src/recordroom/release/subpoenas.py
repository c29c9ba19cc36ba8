"""Satisfactory assurance for a subpoena or discovery request without a court order
(R-DISC-3, 45 CFR 164.512(e)(1)(ii)-(vi)): what each kind needs, checked field by
field from the request's legal_detail, so that a release stays blocked until all
of it is on file."""

from __future__ import annotations

from datetime import date
from typing import Any

from .elements import Defect

ASSURANCES = {
    "notice": "(A) notice to the patient, and the time to object has passed",
    "qpo": "(B) a qualified protective order agreed and filed, or requested",
    "ce-efforts": "(C) our own efforts to give the notice or seek the order",
}
QPO_STATES = ("filed", "requested")


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _flag(detail: dict[str, Any], key: str, element: str, message: str) -> list[Defect]:
    return [] if detail.get(key) else [Defect("R-DISC-3", element, message)]


def _statement(detail: dict[str, Any]) -> list[Defect]:
    out = _flag(detail, "written_statement", "written statement",
                "Please send the requesting party's written statement of the "
                "assurance.")  # fmt: skip
    documents = detail.get("documents")
    if not (isinstance(documents, list) and any(str(d).strip() for d in documents)):
        out.append(Defect("R-DISC-3", "documentation",
                          "Please send the documentation that supports the statement "
                          "(a copy of the notice and proof of mailing, or the "
                          "protective order or the motion for one)."))  # fmt: skip
    return out


def _notice(detail: dict[str, Any], on: date, *, sufficient: bool) -> list[Defect]:
    """(A)(1)-(3): notice sent (with enough about the litigation to object), the
    objection period over, no objection or all resolved for disclosure."""
    out = []
    if _date(detail.get("notice_sent_on")) is None:
        out.append(Defect("R-DISC-3", "notice to the patient",
                          "Please show the date written notice of the request was "
                          "given or mailed to the patient's last known address."))  # fmt: skip
    if sufficient:
        out += _flag(detail, "notice_sufficient", "content of the notice",
                     "Please show that the notice described the litigation well "
                     "enough for the patient to object to the court.")  # fmt: skip
    deadline = _date(detail.get("objection_deadline"))
    if deadline is None:
        out.append(Defect("R-DISC-3", "end of the objection period",
                          "Please state the date the time to object ends."))  # fmt: skip
    elif deadline >= on:
        out.append(Defect("R-DISC-3", "objection period not over",
                          f"The time for the patient to object runs until "
                          f"{deadline:%B %d, %Y}; we can release only after it has "
                          "passed."))  # fmt: skip
    out += _flag(detail, "objections_resolved", "objections",
                 "Please confirm that no objection was filed, or that every objection "
                 "was resolved by the court in favour of the disclosure.")  # fmt: skip
    return out


def _qpo(detail: dict[str, Any]) -> list[Defect]:
    if detail.get("qpo") in QPO_STATES:
        return []
    return [Defect("R-DISC-3", "qualified protective order",
                   "Please show that the parties agreed to a qualified protective order "
                   "and filed it with the court, or that you asked the court for one. "
                   "It must forbid use outside the litigation and require the records "
                   "to be returned or destroyed at its end.")]  # fmt: skip


def assurance_defects(detail: dict[str, Any], on: date) -> list[Defect]:
    """Every missing piece of the subpoena's assurance on `on`; none: enough."""
    kind = detail.get("assurance", "")
    if kind == "notice":
        return _statement(detail) + _notice(detail, on, sufficient=True)
    if kind == "qpo":
        return _statement(detail) + _qpo(detail)
    if kind == "ce-efforts":
        effort = detail.get("ce_effort", "")
        if effort == "notice":
            return _notice(detail, on, sufficient=False)
        if effort == "qpo":
            return _qpo(detail)
        return [Defect("R-DISC-3", "our own efforts",
                       "Record whether we gave the patient notice ourselves or sought a "
                       "protective order (ce_effort: notice or qpo).")]  # fmt: skip
    return [Defect(
        "R-DISC-3", "satisfactory assurance",
        "A subpoena that is not signed by a judge is honored only with satisfactory "
        "assurance: a written statement and documents showing that the patient was "
        "given notice and the time to object has passed, or that a qualified "
        "protective order was agreed and filed, or requested. Please send one of "
        "these, or a court order.")]  # fmt: skip
