"""The duplicate worklist as a filtered, paged list of the latest scan's pairs, each
with its status (open, assigned, deferred, resolved: merged, linked, not a
duplicate), assignee and days on the worklist; and assigning pairs to a specialist.

A pair's status is read, not stored: resolved when either record was merged away
or a current decision (mpi.PairDecision) linked them or judged them not a
duplicate, deferred on a deferral, assigned when someone works it
(linkage.PairAssignment), else open. The page, the API and the CLI share
`PairFilter` and `list_pairs`, so a count and a page mean the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from recordroom.accounts import permissions
from recordroom.accounts.models import User
from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed

from .linkage.models import CandidatePair, LinkageRun, PairAssignment
from .models import (
    Facility,
    PairDecision,
    PairDecisionKind,
    Patient,
    PatientIdentifier,
    PatientMerge,
)
from .services import in_scope
from .worklist import decided, latest_scan, retired, scoped

STATUSES = ("open", "assigned", "deferred", "resolved")
# What `status` may ask for: one status, the three still to work, or everything.
STATUS_CHOICES = {
    "unresolved": ("open", "assigned", "deferred"),
    "all": STATUSES,
    **{s: (s,) for s in STATUSES},
}
STATUS_LABELS = {"open": "Open", "assigned": "In progress", "deferred": "Deferred",
                 "resolved": "Resolved"}  # fmt: skip
RESOLUTION_LABELS = {"merged": "merged", "linked": "linked (kept apart)",
                     "not-duplicate": "not a duplicate"}  # fmt: skip
SORTS = {
    "probability": ("-probability", "since", "left_id", "right_id"),
    "age": ("since", "-probability", "left_id", "right_id"),
    "newest": ("-since", "-probability", "left_id", "right_id"),
}
PAGE_SIZES = (25, 50, 100, 200)


@dataclass(frozen=True)
class PairFilter:
    """What to show of the worklist. Every field has a plain-text form (`params`)
    for a URL, a query string or a command line."""

    facility: str = ""  # facility code: a record of the pair is registered there
    min_probability: float | None = None
    max_probability: float | None = None
    min_age: int | None = None  # days on the worklist, at least
    max_age: int | None = None  # ... at most
    status: str = "unresolved"
    assignee: str = ""  # a user name, "me", or "none" (nobody)
    cluster: int | None = None
    sort: str = "probability"

    @classmethod
    def parse(cls, params: Any) -> PairFilter:
        """From a mapping of strings (request.GET, a query schema's dict).

        Raises:
            ValidationFailed: a value out of range or not one of the choices, named.
        """

        def get(name: str) -> str:
            value = params.get(name)
            return "" if value is None else str(value).strip()

        made = cls(
            facility=get("facility").upper(),
            min_probability=_number(get("min_probability"), "min_probability", 0, 1),
            max_probability=_number(get("max_probability"), "max_probability", 0, 1),
            min_age=whole_number(get("min_age"), "min_age"),
            max_age=whole_number(get("max_age"), "max_age"),
            status=get("status") or "unresolved",
            assignee=get("assignee"),
            cluster=whole_number(get("cluster"), "cluster"),
            sort=get("sort") or "probability",
        )
        if made.status not in STATUS_CHOICES:
            raise ValidationFailed(f"status {made.status!r} is not one of "
                                   f"{', '.join(STATUS_CHOICES)}", field="status")  # fmt: skip
        if made.sort not in SORTS:
            raise ValidationFailed(f"sort {made.sort!r} is not one of "
                                   f"{', '.join(SORTS)}", field="sort")  # fmt: skip
        lo, hi = made.min_probability, made.max_probability
        if lo is not None and hi is not None and lo > hi:
            raise ValidationFailed(f"min_probability {lo:g} is above max_probability "
                                   f"{hi:g}", field="min_probability")  # fmt: skip
        if made.min_age is not None and made.max_age is not None:
            if made.min_age > made.max_age:
                raise ValidationFailed(f"min_age {made.min_age} is above max_age "
                                       f"{made.max_age}", field="min_age")  # fmt: skip
        return made

    def params(self) -> dict[str, str]:
        """The filter as query parameters (defaults left out), for links."""
        out = {}
        for name, default in DEFAULTS.items():
            value = getattr(self, name)
            if value != default and value is not None and value != "":
                out[name] = f"{value:g}" if isinstance(value, float) else str(value)
        return out


DEFAULTS = {f: getattr(PairFilter(), f) for f in PairFilter.__dataclass_fields__}


def _number(text: str, name: str, lo: float, hi: float) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationFailed(f"{name} must be a number from {lo:g} to {hi:g}, "
                               f"got {text!r:.40}", field=name) from None  # fmt: skip
    if not lo <= value <= hi:
        raise ValidationFailed(f"{name} is between {lo:g} and {hi:g}, got {value:g}",
                               field=name)  # fmt: skip
    return value


def whole_number(text: str | None, name: str) -> int | None:
    """A filter's or page's whole number, or None when not given. Only ASCII digits,
    at most nine ("²" and "١" pass str.isdigit but are no page number; a 5,000-digit
    one makes int() raise), so bad input is refused by name, never a server error."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise ValidationFailed(f"{name} must be a whole number of 0 or more, got "
                               f"{text!r:.40}", field=name)  # fmt: skip
    return int(text)


@dataclass
class PairPage:
    """One page of the worklist: `rows` are CandidatePairs with `status`,
    `resolution`, `since`, `assignee_id` and display attributes set."""

    run: LinkageRun | None
    filters: PairFilter
    rows: list[CandidatePair] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 50

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def annotated(run: LinkageRun, user: Any) -> QuerySet[CandidatePair]:
    """The run's pairs in the user's scope (both records at their facilities), each
    with `status`, `resolution`, `assignee_id` and `since` (when it came on the
    worklist)."""
    gone = Q(left__in=retired()) | Q(right__in=retired())
    settled = (PairDecisionKind.LINKED, PairDecisionKind.NOT_DUPLICATE)
    assignment = PairAssignment.objects.filter(
        left=OuterRef("left"), right=OuterRef("right")
    )
    working = assignment.filter(assignee__isnull=False)
    return (
        CandidatePair.objects.filter(*scoped(user, "left", "right"), run=run)
        .annotate(
            status=Case(
                When(gone, then=Value("resolved")),
                When(decided("left", "right", settled), then=Value("resolved")),
                When(decided("left", "right", [PairDecisionKind.DEFERRED]),
                     then=Value("deferred")),
                When(Exists(working), then=Value("assigned")),
                default=Value("open"), output_field=CharField(),
            ),
            resolution=Case(
                When(gone, then=Value("merged")),
                When(decided("left", "right", [PairDecisionKind.LINKED]),
                     then=Value("linked")),
                When(decided("left", "right", [PairDecisionKind.NOT_DUPLICATE]),
                     then=Value("not-duplicate")),
                default=Value(""), output_field=CharField(),
            ),
            assignee_id=Subquery(assignment.values("assignee")[:1]),
            since=Coalesce("on_worklist_since", Value(run.finished_at)),
        )
    )  # fmt: skip


def filtered(
    run: LinkageRun, user: Any, filters: PairFilter, *, now: datetime | None = None
) -> QuerySet[CandidatePair]:
    """`annotated` narrowed by `filters`, in the filter's order.

    Raises:
        ValidationFailed: an unknown facility or user name.
    """
    now = now or timezone.now()
    f = filters
    qs = annotated(run, user).filter(status__in=STATUS_CHOICES[f.status])  # type: ignore[misc]  # annotated
    if f.facility:
        facility = Facility.objects.filter(code=f.facility).first()
        if facility is None:
            raise ValidationFailed(f"no facility with code {f.facility!r}",
                                   field="facility")  # fmt: skip
        at = PatientIdentifier.objects.filter(facility=facility)
        qs = qs.filter(Exists(at.filter(patient=OuterRef("left")))
                       | Exists(at.filter(patient=OuterRef("right"))))  # fmt: skip
    if f.min_probability is not None:
        qs = qs.filter(probability__gte=f.min_probability)
    if f.max_probability is not None:
        qs = qs.filter(probability__lte=f.max_probability)
    if f.min_age is not None:
        qs = qs.filter(since__lte=now - timedelta(days=f.min_age))  # type: ignore[misc]  # annotated
    if f.max_age is not None:
        qs = qs.filter(since__gt=now - timedelta(days=f.max_age + 1))  # type: ignore[misc]  # annotated
    if f.cluster is not None:
        qs = qs.filter(cluster=f.cluster)
    if f.assignee == "none":
        qs = qs.filter(assignee_id__isnull=True)  # type: ignore[misc]  # annotated
    elif f.assignee:
        qs = qs.filter(assignee_id=_user_named(f.assignee, user).pk)  # type: ignore[misc]  # annotated
    return qs.order_by(*SORTS[f.sort])


def _user_named(name: str, me: Any) -> User:
    if name == "me":
        if me is None or not getattr(me, "pk", None):
            raise ValidationFailed("assignee 'me' needs a signed-in user; give a "
                                   "user name", field="assignee")  # fmt: skip
        return me  # type: ignore[no-any-return]
    user = User.objects.filter(username=name).first()
    if user is None:
        raise ValidationFailed(f"no user named {name!r}", field="assignee")
    return user


def list_pairs(
    *, user: Any, filters: PairFilter, page: int = 1, per_page: int = 50,
    run: LinkageRun | None = None, now: datetime | None = None,
) -> PairPage:  # fmt: skip
    """One page of the latest finished scan's pairs that pass `filters`, and how
    many pass in all. A page past the end is the last page.

    Raises:
        ValidationFailed: a bad filter, page or page size.
    """
    if per_page not in PAGE_SIZES:
        raise ValidationFailed(f"per_page is one of {', '.join(map(str, PAGE_SIZES))}, "
                               f"got {per_page}", field="per_page")  # fmt: skip
    if page < 1:
        raise ValidationFailed(f"page starts at 1, got {page}", field="page")
    run = run or latest_scan()
    out = PairPage(run=run, filters=filters, page=page, per_page=per_page)
    if run is None:
        return out
    qs = filtered(run, user, filters, now=now)
    out.total = qs.count()
    out.page = min(page, out.pages)
    start = (out.page - 1) * per_page
    out.rows = list(
        qs.select_related("left", "right")
        .prefetch_related("left__names", "right__names", "left__identifiers__facility",
                          "right__identifiers__facility")[start : start + per_page]
    )  # fmt: skip
    _describe(out.rows, now or timezone.now())
    return out


def _describe(rows: list[CandidatePair], now: datetime) -> None:
    """Who the assignees are, who resolved what and when, days on the worklist."""
    users = {u.pk: u for u in User.objects.filter(
        pk__in={r.assignee_id for r in rows if r.assignee_id})}  # type: ignore[attr-defined]  # fmt: skip
    ids = [x for r in rows for x in (r.left_id, r.right_id)]
    decisions = {
        (d.left_id, d.right_id): d
        for d in PairDecision.objects.filter(left_id__in=ids, right_id__in=ids,
                                             current=True)
    }  # fmt: skip
    merges = {
        m.retired_id: m
        for m in PatientMerge.objects.filter(retired_id__in=ids, undone_at__isnull=True)
    }
    for r in rows:
        r.assignee = users.get(r.assignee_id)  # type: ignore[attr-defined]
        r.days = max(0, (now - r.since).days)  # type: ignore[attr-defined]
        r.decision = decisions.get((r.left_id, r.right_id))  # type: ignore[attr-defined]
        r.merge = merges.get(r.right_id) or merges.get(r.left_id)  # type: ignore[attr-defined]
        r.status_label = STATUS_LABELS[r.status]  # type: ignore[attr-defined]
        r.resolution_label = RESOLUTION_LABELS.get(r.resolution, "")  # type: ignore[attr-defined]


def cluster_sizes(run: LinkageRun, clusters: set[int]) -> dict[int, int]:
    """Records in each of these clusters (a cluster links records pair by pair)."""
    records: dict[int, set[Any]] = {}
    rows = CandidatePair.objects.filter(run=run, cluster__in=clusters).values_list(
        "cluster", "left_id", "right_id"
    )
    for number, a, b in rows:
        if number is not None:
            records.setdefault(number, set()).update((a, b))
    return {n: len(ids) for n, ids in records.items()}


# --- assignment ----------------------------------------------------------------------


def assign_pairs(
    *, actor: Actor, pairs: list[tuple[UUID, UUID]], assignee: str | None
) -> int:
    """Give pairs to a specialist (`assignee` a user name, "me"), or take them back
    (None or ""): each pair's two records get an `mpi.pair_assign` event.

    Raises:
        ValidationFailed: no pairs, a pair of one record, an unknown record or user,
            or an assignee who may not work the worklist or see both records.
        PermissionDenied: a record outside the actor's facilities.
    """
    if not pairs:
        raise ValidationFailed("choose at least one pair", field="pairs")
    user = _user_named(assignee, actor.user) if assignee else None
    if user is not None and not (
        user.is_active and permissions.has(user, "manage_identity")
    ):
        raise ValidationFailed(f"{user.username} may not work the duplicate worklist "
                               "(their role lacks it)", field="assignee")  # fmt: skip
    ordered = [tuple(sorted(p, key=str)) for p in pairs]
    ids = {x for p in ordered for x in p}
    found = Patient.objects.in_bulk(list(ids))
    for a, b in ordered:
        if a == b:
            raise ValidationFailed("a pair needs two different records", field="pairs")
        for pid in (a, b):
            patient = found.get(pid)
            if patient is None:
                raise ValidationFailed(f"no patient {pid}", field="pairs")
            if not in_scope(actor.user, patient):
                raise PermissionDenied(f"patient {pid} has no record at your "
                                       "facilities", patient_id=pid)  # fmt: skip
            if user is not None and not in_scope(user, patient):
                raise ValidationFailed(
                    f"{user.username} cannot see patient {pid} (no record at their "
                    "facilities); assign the pair to someone who can", field="assignee")  # fmt: skip
    now = timezone.now()
    to = user.username if user else None
    with transaction.atomic():
        for a, b in dict.fromkeys(ordered):
            PairAssignment.objects.update_or_create(
                left_id=a, right_id=b,
                defaults={"assignee": user, "assigned_at": now,
                          "assigned_by": actor.username})  # fmt: skip
        record_many([EventSpec(actor, actions.MPI_PAIR_ASSIGN.name, p,
                               detail={"assignee": to, "other": str(o)})
                     for a, b in dict.fromkeys(ordered)
                     for p, o in ((a, b), (b, a))])  # fmt: skip
    return len(dict.fromkeys(ordered))


def assignable_users(user: Any) -> list[User]:
    """Who may be given pairs: active users whose role works the worklist, those
    sharing a facility with `user` first (everyone when `user` has no limit)."""
    people = [u for u in User.objects.filter(is_active=True).order_by("username")
              if permissions.has(u, "manage_identity")]  # fmt: skip
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return people
    mine = set(scope)
    return [u for u in people if u.facility_ids() is None
            or mine & set(u.facility_ids() or [])]  # fmt: skip


def pair_of(pair_id: int) -> tuple[UUID, UUID]:
    """The two records of a scan's pair (the page's checkboxes carry its row id)."""
    row = CandidatePair.objects.filter(pk=pair_id).values_list("left_id", "right_id")
    found = row.first()
    if found is None:
        raise NotFound(f"no pair {pair_id} on the worklist")
    return found


def reopen_lapsed(*, actor: Actor, run: LinkageRun) -> int:
    """After a scan: a "not a duplicate" on a pair the scan found again lapses when
    either record's identifying data changed since (decisions.standing), and the
    pair is open again. Each lapse is audited on both records."""
    from .decisions import fingerprint

    found = CandidatePair.objects.filter(run=run, left=OuterRef("left"),
                                         right=OuterRef("right"))  # fmt: skip
    rows = list(
        PairDecision.objects.filter(Exists(found), current=True,
                                    decision=PairDecisionKind.NOT_DUPLICATE)
        .select_related("left", "right")
    )  # fmt: skip
    lapsed = [d for d in rows if d.fingerprint != fingerprint(d.left, d.right)]
    if not lapsed:
        return 0
    with transaction.atomic():
        PairDecision.objects.filter(pk__in=[d.pk for d in lapsed]).update(current=False)
        record_many([EventSpec(actor, actions.MPI_PAIR_DECISION.name, p, obj=d,
                               detail={"decision": "lapsed", "was": d.decision,
                                       "other": str(o), "run": str(run.pk),
                                       "note": "identifying data changed since"})
                     for d in lapsed
                     for p, o in ((d.left_id, d.right_id), (d.right_id, d.left_id))])  # fmt: skip
    return len(lapsed)
