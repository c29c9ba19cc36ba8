"""The MPI dashboard's measures, within a user's facilities: the duplicate rate by
facility and by who created the records, the worklist's size and age, and the
automatic links of search before create with the day's sample to review.

Every figure is one aggregate query (no loop over patients): the page has to stay
quick on an index of a million records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .linkage.models import LinkageRun, LinkReview, MatchDecision
from .linkage.registration import automatic_links, sample_for_review, thresholds_for
from .models import (
    Facility,
    IdentifierKind,
    OverlayFlag,
    OverlayStatus,
    Patient,
    PatientIdentifier,
    PatientMerge,
)
from .services import visible_patients
from .worklist import latest_scan, review_registrations, scan_pairs

LINK_WINDOW = timedelta(days=30)  # automatic links counted over the last 30 days
FRESH, STALE = timedelta(days=7), timedelta(days=30)  # worklist age buckets


@dataclass(frozen=True)
class Rate:
    """Records and their duplicates for a facility (`key` its code) or a creator
    (`key` who registered them, `label` through what: ui, api, hl7, fhir, demo)."""

    key: str
    label: str
    records: int
    confirmed: int  # retired by a merge that stands
    suspected: int  # the later record of a likely pair still on the worklist

    @property
    def duplicates(self) -> int:
        return self.confirmed + self.suspected

    @property
    def rate(self) -> float | None:
        return self.duplicates / self.records if self.records else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else 100 * self.rate


@dataclass(frozen=True)
class Worklist:
    """Open pairs (the latest scan's and registrations sent to review) by age, and
    open overlay signs."""

    scan_pairs: int
    registrations: int
    under_week: int
    week_to_month: int
    over_month: int
    oldest: datetime | None
    overlays: int
    oldest_overlay: datetime | None

    @property
    def open_pairs(self) -> int:
        return self.scan_pairs + self.registrations


@dataclass(frozen=True)
class AutoLinks:
    """Registrations linked to an existing record without a person choosing, since
    `since`, and how many a reviewer found correct or wrong."""

    since: datetime
    linked: int
    correct: int
    wrong: int
    sample: list[MatchDecision]  # today's sample still to review

    @property
    def unreviewed(self) -> int:
        return self.linked - self.correct - self.wrong


@dataclass(frozen=True)
class Dashboard:
    as_of: datetime
    scan: LinkageRun | None
    facilities: list[Rate]
    creators: list[Rate]
    total: Rate
    worklist: Worklist
    links: AutoLinks


def measures(
    user: Any, *, now: datetime | None = None, sample_size: int = 10,
    seed: int | None = None,
) -> Dashboard:  # fmt: skip
    """The dashboard for `user` (None: the whole index).

    A record belongs to a facility when it holds an MRN of it, current or ended; a
    merged record keeps the facilities of the MRNs it gave its survivor. Records
    without an MRN are not counted. A pair is open until a merge retires either
    record or a decision settles it ("not a duplicate", "linked"; a deferred pair
    stays open). Suspected duplicates are the later records of open pairs: scan
    pairs from the review threshold on, registrations sent to review. A scan
    pair's age runs from the first finished scan that found it (kept on the pair,
    `on_worklist_since`), a registration's from its decision.
    """
    now = now or timezone.now()
    run = latest_scan()
    facilities, creators = _rates(user, run)
    total = Rate("all", "", *(sum(getattr(r, f) for r in creators)
                              for f in ("records", "confirmed", "suspected")))  # fmt: skip
    return Dashboard(
        as_of=now, scan=run, facilities=facilities, creators=creators, total=total,
        worklist=_worklist(user, run, now),
        links=_links(user, now, sample_size, seed),
    )  # fmt: skip


# --- the duplicate rate ------------------------------------------------------------


def _sql(qs: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = qs.order_by().query.sql_with_params()
    return sql, list(params)


def _suspected(run: LinkageRun | None) -> tuple[str, list[Any]]:
    """SQL of the records suspected to be duplicates (column `dup`, each once):
    the later record of each open pair, whoever may see the other one. A scan
    pair counts from the review threshold (RECORDROOM_MPI_THRESHOLDS '*'): the
    scan keeps far less likely pairs for the worklist's tail."""
    parts = [_sql(review_registrations(run).annotate(dup=F("patient")).values("dup"))]
    if run is not None:
        likely = scan_pairs(run).filter(probability__gte=thresholds_for(None).review)
        parts.append(_sql(likely.annotate(dup=F("right")).values("dup")))
    sql = " UNION ".join(
        f"SELECT dup FROM ({s}) s{n}" for n, (s, _) in enumerate(parts)
    )
    return sql, [p for _, params in parts for p in params]


def _records_at(user: Any) -> tuple[str, list[Any]]:
    """SQL of (patient_id, facility_id), each once: records holding an MRN of a
    facility in the user's scope, and merged records with the MRNs they gave their
    survivor (named on the merge, so that an unmerge can put them back)."""
    q = connection.ops.quote_name
    ident, merge = PatientIdentifier._meta.db_table, PatientMerge._meta.db_table
    scope = user.facility_ids() if user is not None else None
    where, params = (
        "i.kind = %s AND i.facility_id IS NOT NULL",
        [IdentifierKind.MRN.value],
    )
    if scope is not None:
        marks = ", ".join(["%s"] * len(scope)) or "NULL"
        where += f" AND i.facility_id IN ({marks})"
        params += [_param("facility_id", f) for f in sorted(scope, key=str)]
    # Each merge's moved identifiers, looked up by id. On SQLite, CROSS JOIN keeps
    # that order: left to itself it read every MRN for each merge (13 s at 20,000).
    if connection.vendor == "postgresql":
        moved = (f"{q(merge)} m CROSS JOIN LATERAL jsonb_array_elements("
                 f"m.restore -> 'identifiers') e CROSS JOIN {q(ident)} i "
                 "WHERE i.id = (e ->> 'id')::bigint")  # fmt: skip
    else:
        moved = (f"{q(merge)} m CROSS JOIN json_each(m.restore, '$.identifiers') e "
                 f"CROSS JOIN {q(ident)} i WHERE i.id = json_extract(e.value, '$.id')")  # fmt: skip
    sql = (f"SELECT i.patient_id, i.facility_id FROM {q(ident)} i WHERE {where} "
           f"UNION SELECT m.retired_id, i.facility_id FROM {moved} "
           f"AND m.undone_at IS NULL AND {where}")  # fmt: skip
    return sql, params + params


def _param(attname: str, value: Any) -> Any:
    field: Any = PatientIdentifier._meta.get_field(attname)
    return field.get_db_prep_value(value, connection, prepared=False)


def _rates(user: Any, run: LinkageRun | None) -> tuple[list[Rate], list[Rate]]:
    """The duplicate rate by facility and by creator, in one pass over the records
    at the user's facilities: each (facility, creator) cell counted twice, once
    with every record and once with each record at its first facility only, so
    that a record at two facilities counts once for its creator."""
    patient = connection.ops.quote_name(Patient._meta.db_table)
    fac_sql, fac_params = _records_at(user)
    sus_sql, sus_params = _suspected(run)
    if connection.vendor == "postgresql":  # a hash join
        join, sus = "LEFT JOIN sus s ON s.dup = fac.patient_id", "s.dup IS NOT NULL"
    else:  # SQLite read a joined CTE row by row (7 s at 20,000); IN indexes it
        join, sus = "", "fac.patient_id IN (SELECT dup FROM sus)"
    conf = "CASE WHEN p.merged_into_id IS NULL THEN 0 ELSE 1 END"
    sql = (
        f"WITH fac AS ({fac_sql}), sus AS ({sus_sql}) "
        "SELECT f.facility_id, p.created_by, p.created_via, COUNT(*), "
        f"SUM({conf}), SUM(f.sus), SUM(f.first), SUM(f.first * {conf}), "
        "SUM(f.first * f.sus) FROM (SELECT fac.patient_id, fac.facility_id, "
        "CASE WHEN ROW_NUMBER() OVER (PARTITION BY fac.patient_id "
        "ORDER BY fac.facility_id) = 1 THEN 1 ELSE 0 END AS first, "
        f"CASE WHEN {sus} THEN 1 ELSE 0 END AS sus FROM fac {join}) f "
        f"JOIN {patient} p ON p.id = f.patient_id "
        "GROUP BY f.facility_id, p.created_by, p.created_via"
    )  # noqa: S608 (table names from the models; values are parameters)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # JIT compiling this one-off report took longer than running it (a
            # third of the time at a million records); SET LOCAL ends with it
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, fac_params + sus_params)
        cells = cursor.fetchall()
    by_facility: dict[UUID, list[int]] = {}
    by_creator: dict[tuple[str, str], list[int]] = {}
    for fid, by, via, *counts in cells:
        n = [int(c or 0) for c in counts]
        for total, add in (
            (by_facility.setdefault(UUID(str(fid)), [0, 0, 0]), n[:3]),
            (by_creator.setdefault((by, via), [0, 0, 0]), n[3:]),
        ):
            for k in range(3):
                total[k] += add[k]
    scope = user.facility_ids() if user is not None else None
    facilities = Facility.objects.order_by("code")
    if scope is not None:
        facilities = facilities.filter(pk__in=scope)
    rates = [
        Rate(f.code, f.name, *by_facility.get(f.pk, (0, 0, 0))) for f in facilities
    ]
    creators = [
        Rate(by or "(not recorded)", via, *n) for (by, via), n in by_creator.items()
    ]
    creators.sort(key=lambda r: (-r.duplicates, -r.records, r.key, r.label))
    return rates, creators


# --- the worklist and the automatic links -------------------------------------------


def _ages(qs: QuerySet[Any], since: str, now: datetime) -> dict[str, Any]:
    return qs.aggregate(
        n=Count("pk"),
        fresh=Count("pk", filter=Q(**{f"{since}__gt": now - FRESH})),
        stale=Count("pk", filter=Q(**{f"{since}__lt": now - STALE})),
        oldest=Min(since),
    )


def _worklist(user: Any, run: LinkageRun | None, now: datetime) -> Worklist:
    reg = _ages(review_registrations(run, user), "decided_at", now)
    scan: dict[str, Any] = {"n": 0, "fresh": 0, "stale": 0, "oldest": None}
    if run is not None:
        since = Coalesce("on_worklist_since", Value(run.finished_at))
        pairs = scan_pairs(run, user).annotate(since=since)
        scan = _ages(pairs, "since", now)
    counted = (scan, reg)
    flags = _visible(OverlayFlag.objects.filter(status=OverlayStatus.OPEN), user)
    overlays = flags.aggregate(n=Count("pk"), oldest=Min("detected_at"))
    oldest = [c["oldest"] for c in counted if c["oldest"] is not None]
    return Worklist(
        scan_pairs=scan["n"], registrations=reg["n"],
        under_week=scan["fresh"] + reg["fresh"],
        week_to_month=sum(c["n"] - c["fresh"] - c["stale"] for c in counted),
        over_month=scan["stale"] + reg["stale"], oldest=min(oldest, default=None),
        overlays=overlays["n"], oldest_overlay=overlays["oldest"],
    )  # fmt: skip


def _visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Rows whose patient the user may see (a merged record with its survivor)."""
    if user is None or user.facility_ids() is None:
        return qs
    return qs.filter(patient__in=visible_patients(user))


def _links(user: Any, now: datetime, size: int, seed: int | None) -> AutoLinks:
    since = now - LINK_WINDOW
    links = automatic_links(user).filter(decided_at__gte=since)
    counts = links.aggregate(
        n=Count("pk"),
        correct=Count("pk", filter=Q(review=LinkReview.CORRECT)),
        wrong=Count("pk", filter=Q(review=LinkReview.WRONG)),
    )
    return AutoLinks(
        since=since, linked=counts["n"], correct=counts["correct"],
        wrong=counts["wrong"],
        sample=sample_for_review(size=size, seed=seed, user=user) if size else [],
    )  # fmt: skip
