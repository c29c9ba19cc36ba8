"""Denying a request in whole or part on a ground of R-ACC-7 (unreviewable) or
R-ACC-8 (reviewable: a licensed professional's judgment), with the R-ACC-9
letter; and the review of a reviewable denial by a different professional."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed

from . import requests as rq
from .grounds import GROUNDS, Ground
from .letters import render_letter
from .models import (
    ACCESS_TYPES,
    OPEN_STATUSES,
    Denial,
    LetterKind,
    ReleaseRequest,
    Status,
)

OUTCOMES = ("upheld", "reversed")


def _same_person(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _check_denial(
    req: ReleaseRequest, ground: str, basis: str, professional: str
) -> Ground:
    found = GROUNDS.get(ground)
    if found is None:
        raise ValidationFailed(f"unknown ground {ground!r}; use one of "
                               f"{', '.join(GROUNDS)}", field="ground")  # fmt: skip
    if req.requester_type not in found.requester_types:
        hint = (": a third party's request is pended with the defect letter, or denied "
                "on no-basis") if req.requester_type not in ACCESS_TYPES else ""  # fmt: skip
        raise ValidationFailed(
            f"{found.rule} ({ground}) does not apply to this request, from "
            f"{req.get_requester_type_display().lower()}{hint}", field="ground")  # fmt: skip
    if req.status not in OPEN_STATUSES:
        raise ValidationFailed(f"request {req.number} is {req.get_status_display().lower()}",
                               field="status")  # fmt: skip
    if not basis.strip():
        raise ValidationFailed("say why, in plain words: the letter gives it to the "
                               "requester (R-ACC-9(i))", field="basis")  # fmt: skip
    if found.needs_professional and not professional.strip():
        raise ValidationFailed(
            f"{found.rule} is a licensed health care professional's determination: "
            "name the professional (R-ACC-8)", field="professional")  # fmt: skip
    return found


def deny(
    *,
    actor: Actor,
    req: ReleaseRequest,
    ground: str,
    basis: str,
    partial: bool = False,
    professional: str = "",
) -> Denial:
    """Deny the request (or part of it, the rest still to be released) and write
    the denial letter (R-ACC-9). A refused attempt is audited.

    Raises:
        ValidationFailed: an unknown ground or one that does not apply to this
            requester, a closed request, no basis in words, a reviewable ground
            without the professional, or no complaint contact phone configured.
    """
    try:
        found = _check_denial(req, ground, basis, professional)
        with transaction.atomic():
            denial = Denial.objects.create(
                request=req, ground=ground, reviewable=found.reviewable,
                basis=basis.strip(), partial=partial, denied_by=actor.username,
                professional=professional.strip()[:200], denied_at=timezone.now())  # fmt: skip
            if not partial:
                req.status, req.closed_at = Status.DENIED, denial.denied_at
                req.status_note = f"denied: {found.rule} {ground}"[:500]
                req.save(
                    update_fields=["status", "status_note", "closed_at", "updated_at"]
                )
            letter = render_letter(actor=actor, req=req, kind=LetterKind.DENIAL,
                                   detail={"denial": str(denial.pk)})  # fmt: skip
            record(actor=actor, action=actions.RELEASE_DENY.name, patient=req.patient,
                   obj=denial, detail={
                       "request": req.number, "ground": ground, "rule": found.rule,
                       "reviewable": found.reviewable, "partial": partial,
                       "professional": denial.professional, "letter": str(letter.pk)})  # fmt: skip
    except ValidationFailed as exc:
        rq.refuse(actor, req, "deny", exc.message)
        raise
    return denial


def request_review(
    *, actor: Actor, denial: Denial, at: datetime | None = None
) -> Denial:
    """The requester asked for a review of a reviewable denial (R-ACC-8): refer it
    promptly to a designated professional.

    Raises:
        ValidationFailed: the ground is unreviewable, or a review was asked for.
    """
    if not denial.reviewable:
        raise ValidationFailed(f"a denial on {GROUNDS[denial.ground].rule} cannot be "
                               "reviewed (R-ACC-7)", field="denial")  # fmt: skip
    if denial.review_requested_at:
        raise ValidationFailed(f"a review was asked for on "
                               f"{clock.short_date(denial.review_requested_at, denial.request.facility)}",
                               field="denial")  # fmt: skip
    with transaction.atomic():
        denial.review_requested_at = at or timezone.now()
        denial.save(update_fields=["review_requested_at"])
        record(actor=actor, action=actions.RELEASE_DENY.name,
               patient=denial.request.patient_id, obj=denial,
               detail={"review_requested": denial.review_requested_at.isoformat()})  # fmt: skip
    return denial


def record_review(
    *, actor: Actor, denial: Denial, reviewer: str, outcome: str
) -> Denial:
    """The reviewing professional's decision (R-ACC-8): a different licensed
    professional from the one who denied. Reversing a whole denial reopens the
    request to be released; the requester gets the decision in writing.

    Raises:
        ValidationFailed: no review asked for, already reviewed, an unknown
            outcome, or the reviewer is the professional who denied.
    """
    problem = ""
    if not denial.review_requested_at:
        problem = "no review was asked for (request_review first)"
    elif denial.reviewed_at:
        problem = (
            "already reviewed on "
            f"{clock.short_date(denial.reviewed_at, denial.request.facility)}"
        )
    elif outcome not in OUTCOMES:
        problem = f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}"
    elif not reviewer.strip():
        problem = "name the reviewing licensed health care professional"
    elif _same_person(reviewer, denial.professional) or _same_person(
        reviewer, denial.denied_by
    ):
        problem = (f"{reviewer.strip()} took part in the denial: the review is by a "
                   "different licensed professional (R-ACC-8)")  # fmt: skip
    req = denial.request
    if problem:
        rq.refuse(actor, req, "review denial", problem)
        raise ValidationFailed(problem, field="reviewer")
    with transaction.atomic():
        denial.reviewer, denial.review_outcome = reviewer.strip()[:200], outcome
        denial.reviewed_at = timezone.now()
        denial.save(update_fields=["reviewer", "review_outcome", "reviewed_at"])
        if outcome == "reversed" and req.status == Status.DENIED:
            req.status, req.closed_at = Status.IN_PROGRESS, None
            req.status_note = f"denial reversed on review by {denial.reviewer}"[:500]
            req.save(update_fields=["status", "status_note", "closed_at", "updated_at"])
        letter = render_letter(actor=actor, req=req, kind=LetterKind.REVIEW,
                               detail={"denial": str(denial.pk)})  # fmt: skip
        record(actor=actor, action=actions.RELEASE_DENY.name, patient=req.patient,
               obj=denial, detail={"reviewed_by": denial.reviewer, "outcome": outcome,
                                   "letter": str(letter.pk)})  # fmt: skip
    return denial
