""" "Scan now" from the worklist: a scan queued for the worker (django-tasks), its
progress and heartbeat while it runs, and its end (the run it made, or why it
failed). At most one request is queued or running: a second click finds it."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied

from .models import LinkageRun, RunStatus, ScanRequest, ScanRequestStatus

# A running request writes its progress (and so its heartbeat) at most this often,
# and is taken for dead after STALE_AFTER without one (scoring writes every chunk).
BEAT_EVERY = 2.0  # seconds
STALE_AFTER = timedelta(minutes=30)
PHASES = {"load": "reading the index", "train": "training the model",
          "score": "scoring candidate pairs"}  # fmt: skip


def may_scan(user: Any) -> bool:
    """A scan reads and scores the whole index, so it is started by someone who
    works the worklist (manage_identity) with the whole index in their scope:
    every facility, or all there are (an HIM manager, an enterprise MPI team)."""
    from recordroom.accounts import permissions
    from recordroom.mpi.models import Facility

    if user is None or not permissions.has(user, "manage_identity"):
        return False
    scope = user.facility_ids()
    return scope is None or not Facility.objects.exclude(pk__in=scope).exists()


@dataclass
class ScanState:
    """What the worklist shows about scans."""

    active: ScanRequest | None  # queued or running
    last: LinkageRun | None  # the latest finished scan
    last_request: ScanRequest | None  # the latest request that ended
    interrupted: LinkageRun | None  # a scan left running outside any request


def scan_state() -> ScanState:
    _fail_dead()
    active = ScanRequest.objects.filter(active=True).first()
    ended = ScanRequest.objects.filter(active__isnull=True).first()
    last = (LinkageRun.objects.filter(status=RunStatus.FINISHED)
            .order_by("-finished_at").first())  # fmt: skip
    running = LinkageRun.objects.filter(status=RunStatus.RUNNING).first()
    if running is not None and active is not None and active.status == "running":
        running = None  # it is the request's own run
    return ScanState(active=active, last=last, last_request=ended, interrupted=running)


def request_scan(*, actor: Actor) -> tuple[ScanRequest, bool]:
    """Queue a scan for the worker, unless one is queued or running already.

    Returns the request and whether it is new (False: the one already under way).

    Raises:
        PermissionDenied: the actor may not start a scan (see may_scan).
    """
    if not may_scan(actor.user):
        raise PermissionDenied("starting a scan of the whole index needs the "
                               "duplicate worklist and every facility in your scope")  # fmt: skip
    _fail_dead()
    from .tasks import scan_task

    try:
        with transaction.atomic():
            req = ScanRequest.objects.create(requested_at=timezone.now(),
                                             requested_by=actor.username)  # fmt: skip
            record(actor=actor, action=actions.MPI_SCAN_REQUEST.name, obj=req,
                   detail={"request": str(req.pk)})  # fmt: skip
            transaction.on_commit(lambda: scan_task.enqueue(str(req.pk)))
    except IntegrityError:  # `active` is unique: another request is under way
        return ScanRequest.objects.get(active=True), False
    return req, True


def run_request(request_id: str) -> str:
    """The worker's side: run the scan (resuming one left unfinished), recording
    progress; the request ends finished with its run, or failed with the reason."""
    from .services import scan_index

    taken = ScanRequest.objects.filter(
        pk=request_id, status=ScanRequestStatus.QUEUED
    ).update(status=ScanRequestStatus.RUNNING, started_at=timezone.now(),
             heartbeat_at=timezone.now(), host=socket.gethostname()[:255],
             pid=os.getpid(), progress="starting")  # fmt: skip
    if not taken:
        return "not queued"
    req = ScanRequest.objects.get(pk=request_id)
    from recordroom.accounts.models import User

    user = User.objects.filter(username=req.requested_by).first()
    actor = Actor(user=user, channel="worker", name=req.requested_by)
    last = [0.0]

    def progress(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < BEAT_EVERY and done != total:
            return
        last[0] = now
        ScanRequest.objects.filter(pk=req.pk).update(
            progress=f"{PHASES.get(phase, phase)} {done:,} of {total:,}",
            heartbeat_at=timezone.now())  # fmt: skip

    try:
        run = scan_index(actor=actor, progress=progress)
    except Exception as exc:  # the request must say it failed, whatever the cause
        ScanRequest.objects.filter(pk=req.pk).update(
            status=ScanRequestStatus.FAILED, active=None, finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000])  # fmt: skip
        raise
    ScanRequest.objects.filter(pk=req.pk).update(
        status=ScanRequestStatus.FINISHED, active=None, finished_at=timezone.now(),
        run=run, progress=f"found {run.stored_pairs:,} pairs")  # fmt: skip
    return ScanRequestStatus.FINISHED


def _fail_dead() -> None:
    """A running request whose process is gone (on this host), or silent for
    STALE_AFTER, is marked failed, so that the next Scan now can start."""
    now = timezone.now()
    here = socket.gethostname()[:255]
    for req in ScanRequest.objects.filter(status=ScanRequestStatus.RUNNING):
        last = req.heartbeat_at or req.started_at or req.requested_at
        gone = req.host == here and req.pid and not _alive(req.pid)
        if gone or now - last > STALE_AFTER:
            why = (f"its worker (pid {req.pid} on {req.host}) ended without finishing"
                   if gone else f"no progress since {last:%Y-%m-%d %H:%M} UTC")  # fmt: skip
            ScanRequest.objects.filter(pk=req.pk, status=ScanRequestStatus.RUNNING
                                       ).update(status=ScanRequestStatus.FAILED,
                                                active=None, finished_at=now,
                                                error=why)  # fmt: skip


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
