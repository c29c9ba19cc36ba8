"""Interface messages: every HL7 v2 message received, its outcome and its ACK code."""

from __future__ import annotations

from django.db import models

from recordroom.kernel.blobs import default_store, unseal
from recordroom.kernel.ids import uuid7

# Messages up to this size keep their raw bytes in their row (one commit makes them
# durable with what they changed); larger ones (documents) go to the blob store.
RAW_INLINE_MAX = 256 * 1024


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    ERROR = "error", "Error"
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate"


class InterfaceMessage(models.Model):
    """One received message. The raw bytes are kept encrypted (AES-GCM, as a blob
    file is): in `raw` for a message up to RAW_INLINE_MAX bytes, committed in the same
    transaction as the row, else in the blob store under `raw_sha256` (its address
    either way). The row's other columns are routing facts, never the PHI itself."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sending_app = models.CharField(max_length=180, blank=True, default="")
    sending_facility = models.CharField(max_length=180, blank=True, default="")
    control_id = models.CharField(max_length=199, blank=True, default="")
    message_type = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.RECEIVED
    )
    error = models.TextField(blank=True, default="")
    raw_sha256 = models.CharField(max_length=64)
    raw_size = models.PositiveIntegerField(default=0)
    raw = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="the message as received, encrypted as a blob file is; empty when "
        "it is in the blob store under raw_sha256",
    )
    patient = models.ForeignKey(
        "mpi.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interface_messages",
    )
    ack_code = models.CharField(max_length=2, blank=True, default="")
    content_sha256 = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="SHA-256 of the message with MSH-7 and MSH-10 set aside: the same "
        "for a resend, different for another message under a reused control id",
    )
    warnings = models.TextField(
        blank=True,
        default="",
        help_text="what was accepted but is worth a look, one per line (e.g. an "
        "undeclared character set read as Windows-1252)",
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["sending_app", "sending_facility", "control_id"],
                name="ifmsg_app_sender_ctrl_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_type or '?'} {self.control_id or '?'} ({self.status})"

    def raw_bytes(self) -> bytes:
        """The message as received (of an oversized one, its head), decrypted and
        checked against `raw_sha256`; IntegrityFailure if altered or missing."""
        if self.raw is not None:
            return unseal(self.raw_sha256, self.raw)
        return default_store().get(self.raw_sha256)


class SourceKey(models.Model):
    """Which of our rows a sender's resource became: (source, type, id) -> our id.

    It makes imports idempotent (a resend finds its row) and resumable (what was
    committed before a crash is found, not written again). `digest` is the hash of
    the resource as last applied, so an unchanged resend writes nothing; `raw_sha256`
    names the encrypted blob of the file or request it came in.
    """

    source = models.CharField(max_length=200)
    resource_type = models.CharField(max_length=40)
    source_id = models.CharField(max_length=200)
    target_id = models.UUIDField(db_index=True)
    digest = models.CharField(max_length=64)
    raw_sha256 = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "resource_type", "source_id"], name="sourcekey_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.resource_type}/{self.source_id}"


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    """One `recordroom import fhir` run (or one FHIR batch), with its counts."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.CharField(max_length=150)
    source = models.CharField(max_length=200)
    paths = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    counts = models.JSONField(default=dict)
    # Who runs it, and that it is still alive: a run whose process died (kill -9) is
    # found by a dead pid on this host or a stale heartbeat and marked failed.
    host = models.CharField(max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(
        blank=True, default="", help_text="why a failed run failed"
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"import {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class QuarantineItem(models.Model):
    """A resource or message refused, kept (encrypted) with the reason."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    run = models.ForeignKey(
        ImportRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quarantined",
    )
    channel = models.CharField(max_length=10)  # import, fhir
    location = models.CharField(
        max_length=300, blank=True, default="", help_text="file and entry/line"
    )
    resource_type = models.CharField(max_length=40, blank=True, default="")
    source_id = models.CharField(max_length=200, blank=True, default="")
    reason = models.TextField()
    expression = models.CharField(max_length=200, blank=True, default="")
    raw_sha256 = models.CharField(max_length=64)
    raw_size = models.PositiveIntegerField(default=0)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.resource_type or '?'} {self.source_id}: {self.reason[:60]}"


class ExportStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ExportJob(models.Model):
    """One FHIR Bulk Data $export: what was asked, by whom, and the files made
    (NDJSON, encrypted at rest in chunks under the data dir)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.CharField(max_length=150)
    user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    request_url = models.CharField(max_length=2000)
    level = models.CharField(max_length=10)  # system, patient, group
    group = models.ForeignKey(
        "mpi.Facility",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.ACCEPTED
    )
    progress = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    files = models.JSONField(default=list, help_text='[{"type", "count", "size"}]')
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return (
            f"$export {self.level} {self.requested_at:%Y-%m-%d %H:%M} ({self.status})"
        )


class ResourceVersion(models.Model):
    """The FHIR version of a served resource that has changed since it was created
    (no row: version 1). Database triggers (migration 0006) count every change to
    the rows a resource is read from, whichever path made it (FHIR, HL7 v2, the web
    app, a merge), so `meta.versionId` and `If-Match` never miss a change."""

    resource_type = models.CharField(max_length=40)
    resource_id = models.UUIDField()
    version = models.PositiveIntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "resource_id"], name="resourceversion_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.resource_id} v{self.version}"
