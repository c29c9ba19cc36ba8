"""FHIR Bulk Data `$export`: kick-off, the background run, status, files.

The run reads each type through the same scoped querysets and mappings as the
FHIR API, as the requesting user, in keyset batches, and streams NDJSON into
files encrypted chunk by chunk (memory stays bounded whatever the size). Each
patient whose record left in an export gets an `interop.export` audit event.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django_tasks import task

from recordroom.accounts.scopes import readable_types
from recordroom.audit.services import EventSpec, record, record_many
from recordroom.interop.fhir.registry import REGISTRY
from recordroom.interop.models import ExportJob, ExportStatus
from recordroom.kernel import actions, crypto
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, NotFound, ValidationFailed
from recordroom.mpi.models import Facility, Patient, PatientIdentifier

PATIENT_TYPES = ("Patient", "Encounter", "Condition", "Procedure", "DocumentReference",
                 "DiagnosticReport", "Observation")  # fmt: skip
SYSTEM_TYPES = (*PATIENT_TYPES, "Practitioner", "Organization")
BATCH = 500
CHUNK = 1 << 20  # plaintext bytes per encrypted chunk
# The field each type's "changed since" is read from (practitioners and
# organizations keep no time: a _since export includes them all).
CHANGED = {"Patient": "updated_at", "Encounter": "created_at",
           "Condition": "updated_at", "Procedure": "updated_at",
           "DocumentReference": "updated_at", "DiagnosticReport": "updated_at",
           "Observation": "updated_at"}  # fmt: skip
# The field that ties a type's rows to the patient, where it is not `patient`.
PATIENT_FIELD = {"Observation": "report__patient"}


def export_dir(job: ExportJob) -> Path:
    return Path(settings.DATA_DIR) / "exports" / str(job.pk)


def kick_off(
    *,
    actor: Actor,
    level: str,
    request_url: str,
    types: list[str] | None = None,
    since: datetime | None = None,
    group: Facility | None = None,
) -> ExportJob:
    """Accept an export and queue it (the worker runs it).

    Raises:
        ValidationFailed: a type that cannot be exported at this level.
    """
    allowed = SYSTEM_TYPES if level == "system" else PATIENT_TYPES
    wanted = types or list(allowed)
    bad = [t for t in wanted if t not in allowed]
    if bad:
        raise ValidationFailed(
            f"_type {', '.join(bad)} cannot be exported at the {level} level; "
            f"exportable: {', '.join(allowed)}", field="_type",
        )  # fmt: skip
    wanted = readable_types(actor, types, allowed)  # a client: what its scopes allow
    job = ExportJob.objects.create(
        requested_by=actor.username, user=actor.user, request_url=request_url[:2000],
        level=level, group=group, types=wanted, since=since,
    )  # fmt: skip
    record(actor=actor, action=actions.INTEROP_EXPORT.name, obj=job,
           detail={"step": "kick-off", "level": level, "types": wanted,
                   "group": group.code if group else None})  # fmt: skip
    run_export_task.enqueue(str(job.pk))
    return job


def cohort(job: ExportJob) -> QuerySet[Patient]:
    from recordroom.mpi.services import visible_patients

    patients = visible_patients(job.user)
    if job.group_id:
        patients = patients.filter(
            Exists(PatientIdentifier.objects.filter(
                patient=OuterRef("pk"), facility_id=job.group_id))
        )  # fmt: skip
    return patients


def _rows(job: ExportJob, rtype: str) -> Iterator[list[Any]]:
    """Batches of the rows of one type, by keyset on the primary key."""
    rt = REGISTRY[rtype]
    qs = rt.queryset(job.user)
    if rtype == "Patient":
        qs = qs.filter(pk__in=cohort(job).values("pk"))
    elif rtype in PATIENT_TYPES:
        qs = qs.filter(**{f"{PATIENT_FIELD.get(rtype, 'patient')}__in": cohort(job)})
    if job.since and rtype in CHANGED:
        qs = qs.filter(**{f"{CHANGED[rtype]}__gte": job.since})
    last = None
    while True:
        page = qs.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        batch = list(page[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


class EncryptedWriter:
    """NDJSON into a file of encrypted chunks: [8-byte length][AES-GCM chunk]..."""

    def __init__(self, path: Path) -> None:
        self.fh = path.open("wb")
        self.buffer = bytearray()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.buffer += data
        self.size += len(data)
        if len(self.buffer) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.buffer:
            token = crypto.encrypt(bytes(self.buffer), purpose="export")
            self.fh.write(struct.pack(">Q", len(token)) + token)
            self.buffer.clear()

    def close(self) -> None:
        self._flush()
        self.fh.close()


def read_file(path: Path) -> Iterator[bytes]:
    """The plaintext of an export file, chunk by chunk."""
    with path.open("rb") as fh:
        while header := fh.read(8):
            (length,) = struct.unpack(">Q", header)
            yield crypto.decrypt(fh.read(length), purpose="export")


@task()
def run_export_task(job_id: str) -> str:
    return run_export(ExportJob.objects.get(pk=job_id))


def run_export(job: ExportJob) -> str:
    """Write every file of a job; the job ends complete, failed or cancelled."""
    if job.status != ExportStatus.ACCEPTED:
        return job.status
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    out = export_dir(job)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    actor = Actor(user=job.user, channel="fhir", name=job.requested_by)
    files = []
    try:
        for rtype in job.types:
            writer = EncryptedWriter(out / f"{rtype}.ndjson.enc")
            count = 0
            for batch in _rows(job, rtype):
                if ExportJob.objects.filter(pk=job.pk,
                                            status=ExportStatus.CANCELLED).exists():  # fmt: skip
                    writer.close()
                    return ExportStatus.CANCELLED
                for resource in REGISTRY[rtype].to_fhir(job.user, batch):
                    writer.write(orjson.dumps(resource) + b"\n")
                count += len(batch)
                if rtype == "Patient":
                    record_many([EventSpec(actor, actions.INTEROP_EXPORT.name, p.pk,
                                           detail={"job": str(job.pk)}) for p in batch])  # fmt: skip
                ExportJob.objects.filter(pk=job.pk).update(
                    progress=f"{rtype}: {count} written"
                )
            writer.close()
            if count:
                files.append({"type": rtype, "count": count, "size": writer.size})
    except Exception as exc:  # the job must say it failed, whatever the cause
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now())  # fmt: skip
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.COMPLETE, files=files, finished_at=timezone.now(),
        progress="complete")  # fmt: skip
    return ExportStatus.COMPLETE


def get_job(*, actor: Actor, job_id: str) -> ExportJob:
    """A job its requester may see (another user's job reads as absent)."""
    key = _uuid(job_id)
    job = ExportJob.objects.filter(pk=key).first() if key else None
    if job is None or job.user_id != getattr(actor.user, "pk", None):
        raise NotFound(f"no export job {job_id!r} of yours")
    return job


def cancel(*, actor: Actor, job: ExportJob) -> None:
    if job.status in (ExportStatus.FAILED, ExportStatus.CANCELLED):
        raise Conflict(f"export {job.pk} is already {job.status}")
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED,
                                               finished_at=timezone.now())  # fmt: skip
    for path in export_dir(job).glob("*.enc"):
        path.unlink()
    record(actor=actor, action=actions.INTEROP_EXPORT.name, obj=job,
           detail={"step": "cancelled"})  # fmt: skip


def open_file(*, actor: Actor, job: ExportJob, rtype: str) -> Iterator[bytes]:
    """A completed file's NDJSON, audited as a download."""
    if job.status != ExportStatus.COMPLETE:
        raise Conflict(f"export {job.pk} is {job.status}, not complete")
    path = export_dir(job) / f"{rtype}.ndjson.enc"
    if not any(f["type"] == rtype for f in job.files) or not path.exists():
        raise NotFound(f"export {job.pk} has no {rtype} file")
    record(actor=actor, action=actions.INTEROP_EXPORT.name, obj=job,
           detail={"step": "download", "type": rtype})  # fmt: skip
    return read_file(path)


def _uuid(value: str) -> Any:
    from uuid import UUID

    try:
        return UUID(value)
    except ValueError:
        return None
