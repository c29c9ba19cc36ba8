"""Intake: every file that arrives for capture is kept byte for byte (blob store,
SHA-256) and gets a batch, whatever it turns out to be: an exact duplicate is flagged,
a file we cannot read is refused with its reason, the rest goes to the pipeline."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.records.models import Facility

from .models import BatchStatus, CaptureBatch, CaptureSource, SourceKind
from .steps.preflight import Refused, preflight

PREFLIGHT = "preflight"  # the first pipeline step, done at intake


def source_named(
    name: str, *, kind: str = "import", facility: Facility | None = None
) -> CaptureSource:
    """The capture source called `name`, created (of `kind`, at `facility`) the first
    time it is named."""
    name = name.strip()
    if not name:
        raise ValidationFailed(
            "name the capture source (e.g. the scanner)", field="source"
        )
    if len(name) > 60:
        raise ValidationFailed(
            f"a capture source name has at most 60 characters, not {len(name)}",
            field="source",
        )
    if kind not in SourceKind.values:
        raise ValidationFailed(
            f"unknown source kind {kind!r}; choose one of: {', '.join(SourceKind.values)}",
            field="kind",
        )
    source, _ = CaptureSource.objects.get_or_create(
        name=name, defaults={"kind": kind, "facility": facility}
    )
    return source


def _check_scope(actor: Actor, facility: Facility | None) -> None:
    user = actor.user
    if facility is None or user is None:
        return
    ids = user.facility_ids()
    if ids is not None and facility.pk not in ids:
        raise PermissionDenied(
            f"facility {facility.code} is not in your scope: capture for your own "
            "facilities, or ask an administrator"
        )


def receive_file(
    *,
    actor: Actor,
    data: bytes,
    filename: str,
    source: CaptureSource,
    facility: Facility | None = None,
) -> CaptureBatch:
    """Keep `data` and open a batch for it (audited `capture.receive`).

    The original goes to the blob store first, so nothing received is ever lost. An
    exact copy of a file already received gets a batch with status "duplicate" (and
    `duplicate_of`) and is not read again; a file that is not a scan we can read gets
    status "refused" with the reason in `problem`; any other is queued for the
    worker (capture.tasks) once the batch is committed.

    Raises:
        PermissionDenied: `facility` is outside the actor's scope.
    """
    _check_scope(actor, facility)
    filename = (filename or "unnamed").replace("\\", "/").rsplit("/", 1)[-1][:255]
    sha = hashlib.sha256(data).hexdigest()
    default_store().put(data)
    first = (CaptureBatch.objects.filter(sha256=sha)
             .exclude(status=BatchStatus.DUPLICATE).order_by("received_at").first())  # fmt: skip
    problem, media_type, pages = "", "", 0
    if first is None:
        try:
            checked = preflight(data, filename=filename)
            media_type, pages = checked.media_type, checked.pages
        except Refused as exc:
            problem = exc.reason
    else:
        media_type, pages = first.media_type, first.page_count
    status = (BatchStatus.DUPLICATE if first is not None
              else BatchStatus.REFUSED if problem else BatchStatus.RECEIVED)  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        batch = CaptureBatch.objects.create(
            source=source, facility=facility or source.facility, filename=filename,
            media_type=media_type, sha256=sha, size=len(data), page_count=pages,
            duplicate_of=first, status=status, problem=problem,
            step=PREFLIGHT if status == BatchStatus.RECEIVED else "",
            received_at=now, received_by=actor.username,
            finished_at=now if status != BatchStatus.RECEIVED else None,
        )  # fmt: skip
        detail: dict[str, Any] = {
            "batch": str(batch.pk), "source": source.name, "filename": filename,
            "sha256": sha, "size": len(data), "pages": pages, "status": status,
        }  # fmt: skip
        if first is not None:
            detail["duplicate_of"] = str(first.pk)
        if problem:
            detail["reason"] = problem
        record(actor=actor, action=actions.CAPTURE_RECEIVE.name, obj=batch,
               outcome=Outcome.FAILURE if problem else Outcome.SUCCESS,
               detail=detail)  # fmt: skip
        if status == BatchStatus.RECEIVED:
            from .tasks import enqueue_batch

            transaction.on_commit(lambda: enqueue_batch(batch.pk))
    return batch


def _in_scope(user: Any) -> Any:
    batches = CaptureBatch.objects.select_related("source", "facility")
    ids = user.facility_ids() if user is not None else None
    if ids is not None:
        batches = batches.filter(Q(facility_id__in=ids) | Q(facility__isnull=True))
    return batches


def batch_for(*, user: Any, batch_id: Any) -> CaptureBatch:
    """A batch the user may follow (its facility in the user's scope).

    Raises:
        NotFound: no such batch, or one at a facility outside the scope.
    """
    batch = _in_scope(user).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(f"no capture batch {batch_id} in your facilities")
    return batch


def recent_batches(
    *, user: Any, received_by: str = "", limit: int = 50
) -> list[CaptureBatch]:
    """The newest batches in the user's scope (those `received_by` someone, if given)."""
    batches = _in_scope(user)
    if received_by:
        batches = batches.filter(received_by=received_by)
    return list(batches.order_by("-received_at")[:limit])


def document_counts(batch: CaptureBatch) -> dict[str, int]:
    """The batch's documents by status: {"queued": 2, "filed": 1}."""
    rows = batch.documents.values_list("status").annotate(n=Count("id"))
    return {str(status): int(n) for status, n in rows}
