"""The capture pipeline's runner: the steps in order, each one's progress kept on the
batch (`step`, `log`), a failure turned into a refusal with its reason (the original
stays), and a batch whose worker died taken up again after its last finished step."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor

from .models import BatchStatus, CaptureBatch, CaptureDocumentStatus
from .steps.decide import file_documents, propose_documents
from .steps.normalise import normalise
from .steps.pages import read_batch_pages
from .steps.preflight import Refused, preflight

logger = logging.getLogger(__name__)

# A batch whose worker (on another host) has given no sign of life for this long is
# taken to be abandoned; the heartbeat is written every BEAT seconds while it runs.
STALE = timedelta(minutes=10)
BEAT = 30.0
ACTOR_NAME = "capture-pipeline"


@dataclass(frozen=True)
class Context:
    """What a step may use besides its batch: the pipeline's actor and a heartbeat."""

    actor: Actor
    beat: Callable[[], None]


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[CaptureBatch, Context], Any]  # returns a dataclass (its result)


def _preflight(batch: CaptureBatch, ctx: Context) -> Any:
    from recordroom.kernel.blobs import default_store

    return preflight(default_store().get(batch.sha256), filename=batch.filename)


def _split(batch: CaptureBatch, ctx: Context) -> Any:
    from .steps.split import split_batch

    return split_batch(batch)


STEPS: tuple[Step, ...] = (
    Step("preflight", _preflight),
    Step("normalise", lambda b, c: normalise(b)),
    Step("read", lambda b, c: read_batch_pages(b, beat=c.beat)),
    Step("split", _split),
    Step("propose", lambda b, c: propose_documents(b)),
    Step("file", lambda b, c: file_documents(b, actor=c.actor)),
)


def me() -> str:
    return f"{socket.gethostname()[:200]}:{os.getpid()}"


def worker_alive(worker: str, heartbeat: Any) -> bool:
    """Is the worker named "host:pid" still at it? On this host: is the process
    there; elsewhere: has it beaten within STALE."""
    if not worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host == socket.gethostname()[:200] and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return heartbeat is not None and timezone.now() - heartbeat < STALE


def claim(batch_id: Any) -> CaptureBatch | None:
    """Take the batch for this process, or None when it is finished or another live
    worker has it."""
    with transaction.atomic():
        batch = CaptureBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status not in (BatchStatus.RECEIVED,
                                                 BatchStatus.PROCESSING):  # fmt: skip
            return None
        if (
            batch.worker
            and batch.worker != me()
            and worker_alive(batch.worker, batch.heartbeat_at)
        ):
            return None
        batch.status = BatchStatus.PROCESSING
        batch.worker, batch.heartbeat_at = me(), timezone.now()
        batch.save(update_fields=["status", "worker", "heartbeat_at"])
    return batch


class _Heartbeat:
    """Beats in a thread of its own while a long step (OCR) runs."""

    def __init__(self, batch_id: Any) -> None:
        self.batch_id = batch_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def beat(self) -> None:
        CaptureBatch.objects.filter(pk=self.batch_id).update(
            heartbeat_at=timezone.now()
        )

    def _run(self) -> None:
        try:
            while not self.stop.wait(BEAT):
                self.beat()
        finally:
            connection.close()

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _result_json(result: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return {}


def run_batch(batch_id: Any) -> CaptureBatch:
    """Run every step the batch has not finished, in this process; returns the batch
    as it ends (status indexing, done or refused). A batch that is not waiting for
    the pipeline, or that a live worker has, is returned as it is."""
    batch = claim(batch_id)
    if batch is None:
        return CaptureBatch.objects.get(pk=batch_id)
    names = [s.name for s in STEPS]
    start = names.index(batch.step) + 1 if batch.step in names else 0
    actor = Actor(channel="worker", name=ACTOR_NAME)
    with _Heartbeat(batch.pk) as heart:
        ctx = Context(actor=actor, beat=heart.beat)
        for step in STEPS[start:]:
            began = time.monotonic()
            try:
                result = step.run(batch, ctx)
            except Refused as exc:
                return _refuse(batch, actor, step.name, exc.reason)
            except Exception as exc:  # a worker never dies of a batch
                logger.exception(
                    "capture: step %s of batch %s failed", step.name, batch.pk
                )
                return _refuse(batch, actor, step.name,
                               f"the {step.name} step failed ({type(exc).__name__}: "
                               f"{str(exc)[:300]}); the original is kept")  # fmt: skip
            entry = {"step": step.name, "at": timezone.now().isoformat(),
                     "worker": me(), "seconds": round(time.monotonic() - began, 3),
                     "result": _result_json(result)}  # fmt: skip
            batch.step = step.name
            batch.log = [*batch.log, entry]
            batch.heartbeat_at = timezone.now()
            CaptureBatch.objects.filter(pk=batch.pk).update(
                step=batch.step, log=batch.log, heartbeat_at=batch.heartbeat_at
            )
    return _finish(batch, actor)


def _finish(batch: CaptureBatch, actor: Actor) -> CaptureBatch:
    docs = batch.documents.all()
    queued = docs.filter(status=CaptureDocumentStatus.QUEUED).count()
    filed = docs.filter(status=CaptureDocumentStatus.FILED).count()
    with transaction.atomic():
        batch.status = BatchStatus.INDEXING if queued else BatchStatus.DONE
        if not queued and not filed:
            batch.problem = "no page with anything on it: nothing to file"
        batch.finished_at = timezone.now()
        batch.worker = ""
        batch.save(update_fields=["status", "problem", "finished_at", "worker"])
        record(actor=actor, action=actions.CAPTURE_PROCESS.name, obj=batch,
               detail={"batch": str(batch.pk), "pages": batch.page_count,
                       "documents": queued + filed, "filed": filed,
                       "queued": queued, "status": batch.status})  # fmt: skip
    return batch


def _refuse(batch: CaptureBatch, actor: Actor, step: str, reason: str) -> CaptureBatch:
    with transaction.atomic():
        batch.status = BatchStatus.REFUSED
        batch.problem = reason[:500]
        batch.finished_at = timezone.now()
        batch.worker = ""
        batch.save(update_fields=["status", "problem", "finished_at", "worker"])
        record(actor=actor, action=actions.CAPTURE_PROCESS.name, obj=batch,
               outcome=Outcome.FAILURE,
               detail={"batch": str(batch.pk), "step": step, "reason": batch.problem})  # fmt: skip
    return batch


def interrupted() -> list[CaptureBatch]:
    """Batches waiting for the pipeline with no live worker: never started (their
    task lost) or left by a worker that died."""
    waiting = CaptureBatch.objects.filter(
        status__in=[BatchStatus.RECEIVED, BatchStatus.PROCESSING]
    ).order_by("received_at")
    return [b for b in waiting if not worker_alive(b.worker, b.heartbeat_at)]
