"""Grounds for denying a request, as data: the unreviewable ones of R-ACC-7, the
reviewable ones of R-ACC-8 (a licensed professional's judgment, reviewed by
another), and a third party's lack of any legal basis (R-AUTH-1)."""

from __future__ import annotations

from dataclasses import dataclass

from .models import ACCESS_TYPES, RequesterType


@dataclass(frozen=True)
class Ground:
    code: str
    rule: str
    reviewable: bool
    words: str  # why, as the denial letter says it (R-ACC-9(i))
    requester_types: tuple[str, ...] = tuple(ACCESS_TYPES)

    @property
    def needs_professional(self) -> bool:
        return self.reviewable


GROUNDS: dict[str, Ground] = {g.code: g for g in (
    Ground("psychotherapy-notes", "R-ACC-7(i)", False,
           "The records asked for are psychotherapy notes, which are not part of the "
           "right of access (45 CFR 164.524(a)(1)(i); R-PN-3)."),
    Ground("litigation", "R-ACC-7(i)", False,
           "The information was compiled in reasonable anticipation of, or for use "
           "in, a civil, criminal or administrative proceeding."),
    Ground("inmate", "R-ACC-7(ii)", False,
           "The correctional institution has determined that giving an inmate a copy "
           "would endanger health, safety, security, custody or rehabilitation."),
    Ground("research", "R-ACC-7(iii)", False,
           "The information was created in a research study that includes treatment. "
           "When enrolling, the patient agreed that access is suspended while the "
           "research is in progress; it will be restored when the research ends."),
    Ground("privacy-act", "R-ACC-7(iv)", False,
           "The records are covered by the Privacy Act (5 U.S.C. 552a), which allows "
           "this denial."),
    Ground("confidential-source", "R-ACC-7(v)", False,
           "The information was given to us by someone other than a health care "
           "provider under a promise of confidentiality, and access would reasonably "
           "be likely to reveal who that was."),
    Ground("endangerment", "R-ACC-8(i)", True,
           "A licensed health care professional has determined that access is "
           "reasonably likely to endanger the life or physical safety of the patient "
           "or another person."),
    Ground("harm-to-other", "R-ACC-8(ii)", True,
           "The records refer to another person (not a health care provider), and a "
           "licensed health care professional has determined that access is "
           "reasonably likely to cause that person substantial harm."),
    Ground("representative-harm", "R-ACC-8(iii)", True,
           "A licensed health care professional has determined that access by you, "
           "as the patient's personal representative, is reasonably likely to cause "
           "substantial harm to the patient or another person.",
           (RequesterType.REPRESENTATIVE,)),
    Ground("no-basis", "R-AUTH-1", False,
           "We have no valid authorization from the patient, and no other legal "
           "basis, to release these records to you.",
           tuple(t for t in RequesterType.values if t not in ACCESS_TYPES)),
)}  # fmt: skip
