"""May a document with these sensitivity labels go out under this request's basis?

Psychotherapy notes need their own authorization and are outside the right of
access (R-PN-2, R-PN-3); Part 2 records need a Part 2 consent or a Part 2 court
order, never a subpoena alone (R-P2-2/3/4/6); state-protected categories go to a
non-treatment recipient only when the authorization or order names them
(R-STATE-2, minimum necessary R-MIN-1). The most restrictive rule wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from recordroom.kernel import clock
from recordroom.kernel.labels import BY_CODE

from .legal import (
    F1_PROCESS,
    PART2_LABELS,
    PSYCHOTHERAPY,
    STATE_LABELS,
    Gate,
    judge_subpoena_is_order,
    valid_authorizations,
)
from .models import Authorization, AuthorizationKind, ReleaseRequest, RequesterType

K = AuthorizationKind
_LEGAL_PURPOSES = ("order", "subpoena", "law")


def purpose_of(req: ReleaseRequest) -> str:
    """access, directive, treatment, authorization, order, subpoena, law or
    public-health: what the sensitive-record rules turn on."""
    kind = req.requester_type
    detail = req.legal_detail or {}
    if kind in (RequesterType.PATIENT, RequesterType.REPRESENTATIVE):
        return "access"
    if kind == RequesterType.THIRD_PARTY_DIRECTIVE:
        return "directive"
    if kind == RequesterType.PROVIDER or (
        kind == RequesterType.PAYER and req.legal_basis == "payment"
    ):
        return "treatment"
    if kind == RequesterType.COURT_ORDER:
        return "order"
    if kind == RequesterType.SUBPOENA:
        return "order" if judge_subpoena_is_order(detail) else "subpoena"
    if kind == RequesterType.LAW_ENFORCEMENT:
        return "law"
    if kind == RequesterType.PUBLIC_HEALTH:
        return "public-health"
    return "authorization"


def sensitive_gate(
    req: ReleaseRequest, labels: Iterable[str], *, on: date | None = None
) -> Gate:
    """Whether one document with these labels may go out under the request."""
    return gate_for(req, on=on)(labels)


def gate_for(
    req: ReleaseRequest, *, on: date | None = None
) -> Callable[[Iterable[str]], Gate]:
    """The gate of a request, its authorizations read once (for many documents)."""
    on = on or clock.today(req.facility)
    valid = valid_authorizations(req, on=on)
    purpose = purpose_of(req)
    detail = req.legal_detail or {}
    named = set(detail.get("covers") or []) if purpose in (
        "order", "law", "public-health") else set()  # fmt: skip
    # R-PN-2 exception: disclosure required by law (164.512(a)), such as a court
    # order or judicial process that expressly names psychotherapy notes.
    required_by_law = purpose == "order" or (
        purpose == "law" and detail.get("process") in F1_PROCESS
    )

    def kinds(*wanted: str) -> list[Authorization]:
        return [a for a in valid if a.kind in wanted]

    def gate(labels: Iterable[str]) -> Gate:
        codes = set(labels)
        if PSYCHOTHERAPY in codes:
            out = _psychotherapy(purpose, codes, kinds, required_by_law and
                                 PSYCHOTHERAPY in named)  # fmt: skip
            if not out.include:
                return out
        if codes & PART2_LABELS:
            out = _part2(req, purpose, kinds, bool(detail.get("part2_court_order")))
            if not out.include:
                return out
        for code in sorted(codes & STATE_LABELS):
            out = _state(req, purpose, code, valid, named)
            if not out.include:
                return out
        if not codes and purpose == "authorization" and valid and not kinds(K.HIPAA):
            return Gate(False, "R-AUTH-1",
                        "outside what the authorization covers: it is for "
                        f"{valid[0].get_kind_display()} only")  # fmt: skip
        return Gate(True)

    return gate


def _psychotherapy(
    purpose: str, codes: set[str], kinds: Callable[..., list[Authorization]],
    by_law: bool,
) -> Gate:  # fmt: skip
    if purpose in ("access", "directive"):
        return Gate(False, "R-PN-3",
                    "psychotherapy notes are not part of the right of access "
                    "(an unreviewable denial, R-ACC-7(i))")  # fmt: skip
    if codes & PART2_LABELS:  # SUD counseling notes: their own consent (R-P2-4)
        if kinds(K.PART2_COUNSELING):
            return Gate(True, "R-P2-4", "SUD counseling notes consent")
        return Gate(False, "R-P2-4",
                    "substance use counseling notes need the patient's separate "
                    "consent for counseling notes")  # fmt: skip
    if kinds(K.PSYCHOTHERAPY):
        return Gate(True, "R-PN-2", "psychotherapy notes authorization")
    if by_law:
        return Gate(True, "R-PN-2", "required by law: the order names them")
    return Gate(False, "R-PN-2",
                "psychotherapy notes need their own authorization for "
                "psychotherapy notes")  # fmt: skip


def _part2(
    req: ReleaseRequest, purpose: str, kinds: Callable[..., list[Authorization]],
    part2_order: bool,
) -> Gate:  # fmt: skip
    consents = kinds(K.PART2, K.PART2_COUNSELING)
    specific = [a for a in consents if not a.tpo]  # R-P2-3: TPO consent is TPO only
    if purpose == "access":
        return Gate(True, "R-ACC-1", "the patient's own Part 2 records")
    if purpose == "treatment":
        if consents:
            return Gate(True, "R-P2-3", "Part 2 consent")
        return Gate(False, "R-P2-2",
                    "substance use disorder records (42 CFR Part 2) need the "
                    "patient's Part 2 consent, even for treatment")  # fmt: skip
    if purpose in _LEGAL_PURPOSES:
        if part2_order:
            return Gate(True, "R-P2-6", "42 CFR 2.64-2.67 court order")
        if specific:
            return Gate(True, "R-P2-6", "the patient's specific Part 2 consent")
        what = "a subpoena alone" if purpose == "subpoena" else \
            f"{req.get_requester_type_display().lower()} alone"  # fmt: skip
        return Gate(False, "R-P2-6",
                    f"substance use disorder records (42 CFR Part 2) are never "
                    f"released on {what}: they need the patient's specific written "
                    "consent or a court order under 42 CFR 2.64-2.67")  # fmt: skip
    if purpose == "public-health":
        return Gate(False, "R-P2-9",
                    "Part 2 records go to public health only de-identified")  # fmt: skip
    if specific:
        return Gate(True, "R-P2-2", "Part 2 consent")
    why = ("the Part 2 consent on file is for treatment, payment and operations "
           "only (R-P2-3)") if consents else "no valid Part 2 consent is on file"  # fmt: skip
    return Gate(False, "R-P2-2",
                f"substance use disorder records (42 CFR Part 2) need the patient's "
                f"Part 2 consent: {why}")  # fmt: skip


def _state(
    req: ReleaseRequest, purpose: str, code: str, valid: list[Authorization],
    named: set[str],
) -> Gate:  # fmt: skip
    display = BY_CODE[code].display
    if purpose == "access":
        if code == "MINCC" and req.requester_type == RequesterType.REPRESENTATIVE:
            return Gate(False, "R-STATE-2",
                        f"{display}: the minor controls these records; a parent's or "
                        "guardian's request does not reach them")  # fmt: skip
        return Gate(True)
    if purpose == "treatment":
        return Gate(True, "R-MIN-2", "treatment")
    if any(code in (a.covers or []) for a in valid):
        return Gate(True, "R-STATE-2", "the authorization names it")
    if code in named:
        return Gate(True, "R-STATE-2", "the order names it")
    by = {"subpoena": "a subpoena does not release it without an authorization that "
          "names it", "authorization": "the authorization does not specifically "
          "name it", "directive": "the patient's direction does not specifically "
          "name it"}.get(purpose, "the order or request does not specifically name it")  # fmt: skip
    return Gate(False, "R-STATE-2",
                f"{display} is left out: {by} (R-STATE-2, minimum necessary)")  # fmt: skip
