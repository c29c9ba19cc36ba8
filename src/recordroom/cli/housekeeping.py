"""What `recordroom worker` does besides running queued tasks: at start, import runs a
killed process left "running" are marked failed; a signed audit checkpoint is written
at start and every AUDIT_CHECKPOINT_MINUTES (R-SEC-2)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

logger = logging.getLogger("recordroom.worker")


def fail_abandoned_imports() -> None:
    from recordroom.interop.bulk.runs import fail_abandoned_runs
    from recordroom.kernel.actor import Actor

    for run in fail_abandoned_runs(actor=Actor(channel="worker", name="worker")):
        logger.warning("import run %s marked failed: %s", run.pk, run.reason)


def checkpoint_now() -> None:
    """Write one signed checkpoint; a failure is logged loudly, never fatal."""
    from django.db import connection

    from recordroom.audit.checkpoints import CheckpointError, write_checkpoint

    try:
        cp = write_checkpoint()
        logger.info("audit checkpoint: event %s %s", cp.event_id, cp.hash)
    except CheckpointError as exc:
        logger.error("audit checkpoint refused: %s", exc)
    except Exception:  # the schedule must outlive a passing database error
        logger.exception("audit checkpoint failed")
    finally:
        connection.close()  # this thread's own connection


def start_schedule(minutes: float) -> threading.Thread | None:
    """A daemon thread writing a checkpoint every `minutes` (none when 0)."""
    if minutes <= 0:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(minutes * 60):
            checkpoint_now()

    thread = threading.Thread(target=loop, name="audit-checkpoints", daemon=True)
    thread.start()
    return thread


def start_nightly(
    enqueue: Callable[[], object], *, name: str, hour: int = 2
) -> threading.Thread:
    """A daemon thread calling `enqueue` every night at `hour` o'clock UTC (the
    chart analysis: the queue's worker then runs it)."""

    def loop() -> None:
        while True:
            now = datetime.now(UTC)
            due = now.replace(hour=hour, minute=0, second=0, microsecond=0)
            if due <= now:
                due += timedelta(days=1)
            time.sleep((due - now).total_seconds())
            enqueue()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
