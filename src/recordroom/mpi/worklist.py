"""The duplicate worklist as queries: the latest scan's pairs and the registrations
sent to review that are still to be worked, within a user's facilities. The
worklist page and the MPI dashboard read the same definitions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from .linkage.models import (
    CandidatePair,
    LinkageRun,
    MatchDecision,
    MatchOutcome,
    RunStatus,
)
from .models import PairDecision, PairDecisionKind, Patient, PatientIdentifier

# Decisions that take a pair off the worklist. A "not a duplicate" lapses when
# either record's identifying data changes (decisions.standing); only the page,
# which checks each pair it shows, can tell (see scan_pairs).
SETTLING = (PairDecisionKind.NOT_DUPLICATE, PairDecisionKind.LINKED)


def latest_scan() -> LinkageRun | None:
    """The most recently finished scan of the index, if any."""
    return (
        LinkageRun.objects.filter(status=RunStatus.FINISHED)
        .order_by("-finished_at")
        .first()
    )


def scoped(user: Any, *fields: str) -> list[Exists]:
    """Filters: each patient `field` of the row (records not merged) has an
    identifier at one of the user's facilities; none for a user without limits."""
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return []
    return [
        Exists(
            PatientIdentifier.objects.filter(patient=OuterRef(f), facility_id__in=scope)
        )
        for f in fields
    ]


def decided(a: str, b: str, kinds: Iterable[str] = SETTLING) -> Exists:
    """A current decision of one of `kinds` on the row's two records (either order)."""
    same = Q(left=OuterRef(a), right=OuterRef(b)) | Q(
        left=OuterRef(b), right=OuterRef(a)
    )
    return Exists(
        PairDecision.objects.filter(same, current=True, decision__in=list(kinds))
    )


def retired() -> QuerySet[Patient, Any]:
    """Ids of records retired by a merge (few: a set an index serves, where
    joining every pair to its two records would read the whole patient table)."""
    return Patient.objects.filter(merged_into__isnull=False).values("pk")


def scan_pairs(
    run: LinkageRun, user: Any = None, *, settling: Iterable[str] = SETTLING
) -> QuerySet[CandidatePair]:
    """The run's pairs still open: neither record merged, both in the user's
    facilities, no current decision of `settling` kinds (deferred stays open).

    Of the two records `right` (the greater id) was created later: ids are
    time-ordered (kernel.ids), so it is the duplicate a rate counts against its
    creator."""
    return (
        CandidatePair.objects.filter(*scoped(user, "left", "right"), run=run)
        .exclude(left__in=retired())
        .exclude(right__in=retired())
        .exclude(decided("left", "right", settling))
    )


def review_registrations(
    run: LinkageRun | None, user: Any = None, *, settling: Iterable[str] = SETTLING
) -> QuerySet[MatchDecision]:
    """Registrations created and sent to review (the review band) still open:
    neither record merged, both in the user's facilities, not decided, and not a
    pair of the latest scan (it is worked there, with its cluster). The new record
    (`patient`) is the duplicate."""
    qs = (
        MatchDecision.objects.filter(
            *scoped(user, "patient", "candidate"),
            outcome=MatchOutcome.REVIEW,
            candidate__isnull=False,
        )
        .exclude(patient__in=retired())
        .exclude(candidate__in=retired())
        .exclude(decided("patient", "candidate", settling))
    )
    if run is not None:
        on_scan = Q(left=OuterRef("patient"), right=OuterRef("candidate")) | Q(
            left=OuterRef("candidate"), right=OuterRef("patient")
        )
        qs = qs.exclude(Exists(CandidatePair.objects.filter(on_scan, run=run)))
    return qs
