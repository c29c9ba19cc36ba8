"""Import runs' liveness: a heartbeat while a run works, and runs left "running" by a
process that died (kill -9, a lost machine) marked failed with the reason, audited."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.interop.models import ImportRun, ImportStatus
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor

# A run refreshes its heartbeat at most this often, and is taken for dead when it has
# not for STALE_AFTER (long enough for the slowest group of entries to apply).
HEARTBEAT_EVERY = timedelta(seconds=30)
STALE_AFTER = timedelta(minutes=30)


def this_process() -> dict[str, object]:
    """The fields a new run records about the process running it."""
    return {"host": socket.gethostname()[:255], "pid": os.getpid(),
            "heartbeat_at": timezone.now()}  # fmt: skip


def beat(run: ImportRun) -> None:
    """Refresh the run's heartbeat (cheap to call often: writes at most every 30 s)."""
    now = timezone.now()
    if run.heartbeat_at is None or now - run.heartbeat_at >= HEARTBEAT_EVERY:
        run.heartbeat_at = now
        ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=now)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _why_dead(run: ImportRun, now: object) -> str | None:
    """Why `run` is no longer running, or None if it may still be."""
    here = socket.gethostname()[:255]
    if run.host == here and run.pid and run.pid != os.getpid():
        if not _pid_alive(run.pid):
            return f"its process (pid {run.pid} on {run.host}) ended without finishing"
    last = run.heartbeat_at or run.started_at
    if now - last > STALE_AFTER:  # type: ignore[operator]
        return (f"no sign of life since {last:%Y-%m-%d %H:%M:%S} UTC (more than "
                f"{STALE_AFTER.seconds // 60} minutes): its process is gone")  # fmt: skip
    return None


def fail_abandoned_runs(*, actor: Actor) -> list[ImportRun]:
    """Mark failed every run left "running" whose process is gone; audit each.

    Called when an import starts and when the worker starts. A run of this very
    process is never touched.
    """
    now = timezone.now()
    failed = []
    for run in ImportRun.objects.filter(status=ImportStatus.RUNNING):
        reason = _why_dead(run, now)
        if reason is None:
            continue
        with transaction.atomic():
            # only if still running: another process may have just done this
            taken = ImportRun.objects.filter(
                pk=run.pk, status=ImportStatus.RUNNING
            ).update(status=ImportStatus.FAILED, finished_at=now, reason=reason)
            if not taken:
                continue
            record(actor=actor, action=actions.INTEROP_IMPORT_ABANDONED.name, obj=run,
                   outcome=Outcome.FAILURE,
                   detail={"source": run.source, "started_by": run.started_by,
                           "reason": reason, "counts": run.counts})  # fmt: skip
        run.refresh_from_db()
        failed.append(run)
    return failed
