"""The capture dashboard's aggregates on real rows: pages received, filed automatically
and by each indexer, waiting and the oldest, per source, and the scan-to-file latency
(median and 90th percentile), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from recordroom.capture.dashboard import capture_dashboard
from recordroom.capture.models import CaptureDocument
from recordroom.kernel.errors import PermissionDenied
from tests import factories

from .queue_data import batch, document, source

pytestmark = pytest.mark.django_db


def _filed(b, pages, *, by, auto, minutes):
    doc = document(b, pages)
    CaptureDocument.objects.filter(pk=doc.pk).update(
        status="filed", auto_filed=auto, decided_by=by,
        decided_at=b.received_at + timedelta(minutes=minutes))  # fmt: skip


def test_throughput_per_source_and_indexer_with_latency(facility, other_facility):
    scanner, fax = source("Scanner 1", facility), source("Fax 1", facility)
    a = batch(["p"] * 4, src=scanner, facility=facility,
              received_ago=timedelta(hours=5))  # fmt: skip
    b = batch(["p"] * 3, src=fax, facility=facility, received_ago=timedelta(hours=3))
    _filed(a, [1, 2], by="pipeline", auto=True, minutes=1)
    _filed(a, [3], by="him1", auto=False, minutes=30)
    _filed(b, [1], by="him1", auto=False, minutes=60)
    _filed(b, [2], by="him2", auto=False, minutes=120)
    document(a, [4])
    document(b, [3])
    far = batch(["p"] * 9, src=source("South", other_facility), facility=other_facility)
    document(far, [1])  # another facility's: not counted for this manager
    manager = factories.user("mgr1", "him_manager", facilities=[facility])
    now = timezone.now()
    board = capture_dashboard(actor=factories.actor(manager),
                              start=now - timedelta(days=1), end=now)  # fmt: skip
    assert (board.received_batches, board.received_pages) == (2, 7)
    assert (board.auto_filed, board.auto_filed_pages) == (1, 2)
    assert (board.indexed, board.indexed_pages) == (3, 3)
    assert (board.waiting, board.waiting_pages) == (2, 2)
    assert board.auto_file_rate == 0.25
    assert (
        timedelta(hours=4, minutes=59)
        < board.oldest_waiting
        < timedelta(hours=5, minutes=1)
    )
    # latencies 1, 30, 60, 120 minutes: the median is the 2nd (nearest rank), p90 the 4th
    assert board.latency_median == timedelta(minutes=30)
    assert board.latency_p90 == timedelta(minutes=120)
    by_source = {r.name: r for r in board.sources}
    assert (by_source["Scanner 1"].received_pages, by_source["Scanner 1"].auto_filed,
            by_source["Scanner 1"].indexed, by_source["Scanner 1"].waiting) == (4, 1, 1, 1)  # fmt: skip
    assert (by_source["Fax 1"].received_pages, by_source["Fax 1"].indexed) == (3, 2)
    assert [(r.name, r.indexed) for r in board.indexers] == [("him1", 2), ("him2", 1)]
    specialist = factories.user("him9", "him_specialist", facilities=[facility])
    with pytest.raises(PermissionDenied, match="capture dashboard"):
        capture_dashboard(actor=factories.actor(specialist), start=now, end=now)
