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
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from recordroom.accounts import permissions
from recordroom.kernel.actor import Actor

from .models import CaptureBatch, CaptureDocument, CaptureDocumentStatus


class PageCount(Func):
    """The number of pages of a captured document (its JSON list's length)."""

    function = "json_array_length"
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler, connection, function="jsonb_array_length", **extra
        )


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


def _scoped_batches(user: Any) -> QuerySet[CaptureBatch]:
    qs = CaptureBatch.objects.all()
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return qs
    return qs.filter(
        Q(facility_id__in=scope)
        | Q(facility__isnull=True, source__facility_id__in=scope)
        | Q(facility__isnull=True, source__facility__isnull=True)
    )


def _percentile(rows: QuerySet[Any], share: float, count: int) -> timedelta | None:
    if not count:
        return None
    # nearest rank: the smallest value with at least `share` of the values at or
    # below it
    at = max(0, min(count - 1, math.ceil(share * count) - 1))
    found = rows.order_by("latency").values_list("latency", flat=True)[at : at + 1]
    value = next(iter(found), None)
    return value if isinstance(value, timedelta) or value is None else timedelta(
        microseconds=value)  # fmt: skip


def capture_dashboard(*, actor: Actor, start: datetime, end: datetime) -> Dashboard:
    """The figures for [start, end): received by received time, filed by decision
    time; waiting and the oldest waiting as of now."""
    if actor.user is not None:
        permissions.require(actor.user, "supervise_capture")
    batches = _scoped_batches(actor.user)
    docs = CaptureDocument.objects.filter(batch__in=batches)
    received = batches.filter(received_at__gte=start, received_at__lt=end)
    got = received.aggregate(n=Count("id"), pages=Sum("page_count"))
    filed = docs.filter(status=CaptureDocumentStatus.FILED, decided_at__gte=start,
                        decided_at__lt=end).annotate(npages=PageCount("pages"))  # fmt: skip
    waiting = docs.filter(status=CaptureDocumentStatus.QUEUED).annotate(
        npages=PageCount("pages")
    )
    auto = filed.filter(auto_filed=True).aggregate(n=Count("id"), p=Sum("npages"))
    hand = filed.filter(auto_filed=False).aggregate(n=Count("id"), p=Sum("npages"))
    wait = waiting.aggregate(n=Count("id"), p=Sum("npages"))
    oldest = (
        waiting.order_by("batch__received_at")
        .values_list("batch__received_at", flat=True)
        .first()
    )
    latency = filed.annotate(
        latency=ExpressionWrapper(
            F("decided_at") - F("batch__received_at"), output_field=DurationField()
        )
    )
    n_filed = (auto["n"] or 0) + (hand["n"] or 0)
    board = Dashboard(
        start=start, end=end,
        received_batches=got["n"] or 0, received_pages=got["pages"] or 0,
        auto_filed=auto["n"] or 0, auto_filed_pages=auto["p"] or 0,
        indexed=hand["n"] or 0, indexed_pages=hand["p"] or 0,
        waiting=wait["n"] or 0, waiting_pages=wait["p"] or 0,
        oldest_waiting=timezone.now() - oldest if oldest else None,
        latency_median=_percentile(latency, 0.5, n_filed),
        latency_p90=_percentile(latency, 0.9, n_filed),
    )  # fmt: skip
    board.sources = _per_source(received, filed, waiting)
    board.indexers = _per_indexer(filed)
    return board


def _per_source(received: Any, filed: Any, waiting: Any) -> list[Row]:
    rows: dict[str, Row] = {}

    def row(name: str) -> Row:
        return rows.setdefault(name, Row(name))

    for r in received.values("source__name").annotate(p=Sum("page_count")):
        row(r["source__name"]).received_pages = r["p"] or 0
    for r in filed.values("batch__source__name", "auto_filed").annotate(
        n=Count("id"), p=Sum("npages")
    ):
        target = row(r["batch__source__name"])
        if r["auto_filed"]:
            target.auto_filed, target.auto_filed_pages = r["n"], r["p"] or 0
        else:
            target.indexed, target.indexed_pages = r["n"], r["p"] or 0
    for r in waiting.values("batch__source__name").annotate(
        n=Count("id"), p=Sum("npages")
    ):
        target = row(r["batch__source__name"])
        target.waiting, target.waiting_pages = r["n"], r["p"] or 0
    return sorted(rows.values(), key=lambda r: r.name)


def _per_indexer(filed: Any) -> list[Row]:
    return [
        Row(r["decided_by"], indexed=r["n"], indexed_pages=r["p"] or 0)
        for r in filed.filter(auto_filed=False)
        .values("decided_by")
        .annotate(n=Count("id"), p=Sum("npages"))
        .order_by("-n", "decided_by")
    ]
