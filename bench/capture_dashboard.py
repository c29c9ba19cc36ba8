"""The capture dashboard and the first page of the indexing queue over a million
scanned pages: 200,000 batches of 5 pages from 4 sources over 90 days, one document
per batch (8 in 10 filed automatically, the rest by 12 indexers, 1 in 50 waiting).

    .venv/bin/python bench/capture_dashboard.py --data-dir /tmp/rr-bench-capdash
    RECORDROOM_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench_capdash \\
        .venv/bin/python bench/capture_dashboard.py --data-dir /tmp/rr-bench-capdash-pg

The first run loads the rows in bulk (no pipeline, no PDFs: the dashboard reads only
the rows); later runs reuse them. Then it times, --runs times each, the dashboard for
the last 7 and 90 days and the queue's first page (50 oldest waiting). Target: each
p95 <= 1 s.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

import _common

TARGET_MS = 1000.0


def load(pages: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from recordroom.capture.models import CaptureBatch, CaptureDocument, CaptureSource
    from recordroom.mpi.models import Facility

    if CaptureBatch.objects.exists():
        return
    rng = random.Random(13)
    facility = Facility.objects.get_or_create(
        code="BENCH", defaults={"name": "Bench General", "mrn_system": "urn:bench"}
    )[0]
    sources = [CaptureSource.objects.create(name=f"Scanner {i}", kind="scanner",
                                            facility=facility) for i in range(4)]  # fmt: skip
    now = timezone.now()
    batches = pages // 5
    start = time.perf_counter()
    for first in range(0, batches, 5000):
        rows, docs = [], []
        for _ in range(first, min(batches, first + 5000)):
            received = now - timedelta(seconds=rng.randrange(90 * 86400))
            b = CaptureBatch(source=rng.choice(sources), facility=facility,
                             filename="scan.pdf", media_type="application/pdf",
                             sha256="0" * 64, size=50_000, page_count=5,
                             status="done", received_at=received, received_by="bench")  # fmt: skip
            rows.append(b)
            roll = rng.random()
            decided = received + timedelta(seconds=rng.randrange(60, 3 * 86400))
            if roll < 0.02:
                status, auto, by, at = "queued", False, "", None
            elif roll < 0.82:
                status, auto, by, at = "filed", True, "pipeline", received
            else:
                status, auto, by, at = (
                    "filed",
                    False,
                    f"indexer{rng.randrange(12)}",
                    decided,
                )
            docs.append(CaptureDocument(
                batch=b, pages=[{"page": n, "rotate": 0} for n in range(1, 6)],
                status=status, auto_filed=auto, decided_by=by,
                decided_at=min(at, now) if at else None))  # fmt: skip
        with transaction.atomic():
            CaptureBatch.objects.bulk_create(rows)
            CaptureDocument.objects.bulk_create(docs)
    print(f"loaded {batches} batches ({batches * 5} pages) in "
          f"{time.perf_counter() - start:.0f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--pages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir)
    load(args.pages)
    from django.utils import timezone

    from recordroom.capture.dashboard import capture_dashboard
    from recordroom.capture.queue import list_queue
    from recordroom.kernel.actor import Actor

    actor = Actor(channel="bench", name="bench")
    now = timezone.now()
    cases = {
        "dashboard, last 7 days": lambda: capture_dashboard(
            actor=actor, start=now - timedelta(days=7), end=now),
        "dashboard, last 90 days": lambda: capture_dashboard(
            actor=actor, start=now - timedelta(days=90), end=now),
        "indexing queue, first page of 50": lambda: list_queue(actor=actor),
    }  # fmt: skip
    rows = []
    for label, fn in cases.items():
        wall = [_common.timed(fn) for _ in range(args.runs)]
        rows.append((label, _common.percentiles(wall), None))
    board = capture_dashboard(actor=actor, start=now - timedelta(days=90), end=now)
    print(_common.machine())
    print(f"{board.received_pages} pages received, {board.auto_filed} auto-filed, "
          f"{board.indexed} by indexers, {board.waiting} waiting; median "
          f"{board.latency_median}, p90 {board.latency_p90}")  # fmt: skip
    _common.print_table("Capture dashboard and queue", rows, TARGET_MS)
    print(f"\nrerun: {_common.rerun_command()}")


if __name__ == "__main__":
    main()
