"""Capture throughput for the supervisor: pages received, filed automatically and by
each indexer, waiting, the age of the oldest waiting document, per source, and the
scan-to-file latency (received → filed, median and 90th percentile) for a period.
Aggregates only (indexed on status and received time), no patient data."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Sum,
)
from django.utils import timezone

from recordroom.accounts import permissions
from recordroom.kernel.actor import Actor

from .models import (
    CaptureBatch,
    CaptureDocument,
    CaptureDocumentStatus,
    CaptureSource,
)


class PageCount(Func):
    """The number of pages of a captured document (its JSON list's length)."""

    function = "json_array_length"
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler, connection, function="jsonb_array_length", **extra
        )


class Seconds(Func):
    """Seconds from the batch's receipt to the decision, computed by the database
    itself (no per-row Python function on SQLite)."""

    output_field = FloatField()
    template = "((julianday(%(decided)s) - julianday(%(received)s)) * 86400.0)"

    def __init__(self) -> None:
        super().__init__(F("decided_at"), F("batch__received_at"))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        decided, p1 = compiler.compile(self.source_expressions[0])
        received, p2 = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"EXTRACT(EPOCH FROM ({decided} - {received}))"
        else:
            sql = self.template % {"decided": decided, "received": received}
        return sql, (*p1, *p2)


@dataclass
class Row:
    name: str
    received_pages: int = 0
    auto_filed: int = 0
    auto_filed_pages: int = 0
    indexed: int = 0
    indexed_pages: int = 0
    waiting: int = 0
    waiting_pages: int = 0


@dataclass
class Dashboard:
    start: datetime
    end: datetime
    received_batches: int
    received_pages: int
    auto_filed: int
    auto_filed_pages: int
    indexed: int
    indexed_pages: int
    waiting: int
    waiting_pages: int
    oldest_waiting: timedelta | None
    latency_median: timedelta | None
    latency_p90: timedelta | None
    sources: list[Row] = field(default_factory=list)
    indexers: list[Row] = field(default_factory=list)

    @property
    def auto_file_rate(self) -> float | None:
        filed = self.auto_filed + self.indexed
        return self.auto_filed / filed if filed else None


def _scope(user: Any, prefix: str = "") -> Q | None:
    """The user's facilities as a filter (None: every facility, no filter at all)."""
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return None
    return (
        Q(**{f"{prefix}facility_id__in": scope})
        | Q(**{f"{prefix}facility__isnull": True,
               f"{prefix}source__facility_id__in": scope})
        | Q(**{f"{prefix}facility__isnull": True,
               f"{prefix}source__facility__isnull": True})
    )  # fmt: skip


def _percentiles(seconds: list[float], *shares: float) -> list[timedelta | None]:
    """Nearest rank: the smallest value with at least `share` of the values at or
    below it."""
    seconds.sort()
    count = len(seconds)
    return [
        timedelta(seconds=round(seconds[max(0, min(count - 1, math.ceil(s * count) - 1))], 3))
        if count else None
        for s in shares
    ]  # fmt: skip


def capture_dashboard(*, actor: Actor, start: datetime, end: datetime) -> Dashboard:
    """The figures for [start, end): received by received time, filed by decision
    time; waiting and the oldest waiting as of now."""
    if actor.user is not None:
        permissions.require(actor.user, "supervise_capture")
    batches = CaptureBatch.objects.all()
    docs = CaptureDocument.objects.all()
    if (where := _scope(actor.user)) is not None:
        batches = batches.filter(where)
        docs = docs.filter(_scope(actor.user, "batch__"))  # type: ignore[arg-type]
    received = batches.filter(received_at__gte=start, received_at__lt=end)
    got = received.aggregate(n=Count("id"), pages=Sum("page_count"))
    filed = docs.filter(status=CaptureDocumentStatus.FILED, decided_at__gte=start,
                        decided_at__lt=end).annotate(npages=PageCount("pages"))  # fmt: skip
    waiting = docs.filter(status=CaptureDocumentStatus.QUEUED).annotate(
        npages=PageCount("pages")
    )
    split = {r["auto_filed"]: r for r in filed.order_by().values("auto_filed")
             .annotate(n=Count("id"), p=Sum("npages"))}  # fmt: skip
    auto, hand = split.get(True, {}), split.get(False, {})
    wait = waiting.order_by().aggregate(n=Count("id"), p=Sum("npages"))
    oldest = (
        waiting.order_by("batch__received_at")
        .values_list("batch__received_at", flat=True)
        .first()
    )
    # one read of the period's latencies, sorted here: cheaper than two sorts in SQL
    latencies = [float(x) for x in filed.order_by().annotate(latency=Seconds())
                 .values_list("latency", flat=True)]  # fmt: skip
    median, p90 = _percentiles(latencies, 0.5, 0.9)
    board = Dashboard(
        start=start, end=end,
        received_batches=got["n"] or 0, received_pages=got["pages"] or 0,
        auto_filed=auto.get("n") or 0, auto_filed_pages=auto.get("p") or 0,
        indexed=hand.get("n") or 0, indexed_pages=hand.get("p") or 0,
        waiting=wait["n"] or 0, waiting_pages=wait["p"] or 0,
        oldest_waiting=timezone.now() - oldest if oldest else None,
        latency_median=median, latency_p90=p90,
    )  # fmt: skip
    board.sources = _per_source(received, filed, waiting)
    board.indexers = _per_indexer(filed)
    return board


def _per_source(received: Any, filed: Any, waiting: Any) -> list[Row]:
    names = dict(CaptureSource.objects.values_list("id", "name"))
    rows: dict[str, Row] = {}

    def row(source_id: Any) -> Row:
        name = names.get(source_id, str(source_id))
        return rows.setdefault(name, Row(name))

    for r in received.order_by().values("source_id").annotate(p=Sum("page_count")):
        row(r["source_id"]).received_pages = r["p"] or 0
    for r in (
        filed.order_by()
        .values("batch__source_id", "auto_filed")
        .annotate(n=Count("id"), p=Sum("npages"))
    ):
        target = row(r["batch__source_id"])
        if r["auto_filed"]:
            target.auto_filed, target.auto_filed_pages = r["n"], r["p"] or 0
        else:
            target.indexed, target.indexed_pages = r["n"], r["p"] or 0
    for r in (
        waiting.order_by()
        .values("batch__source_id")
        .annotate(n=Count("id"), p=Sum("npages"))
    ):
        target = row(r["batch__source_id"])
        target.waiting, target.waiting_pages = r["n"], r["p"] or 0
    return sorted(rows.values(), key=lambda r: r.name)


def _per_indexer(filed: Any) -> list[Row]:
    return [
        Row(r["decided_by"], indexed=r["n"], indexed_pages=r["p"] or 0)
        for r in filed.filter(auto_filed=False)
        .order_by()
        .values("decided_by")
        .annotate(n=Count("id"), p=Sum("npages"))
        .order_by("-n", "decided_by")
    ]
