"""Interface messages: every HL7 v2 message received, its outcome and its ACK code."""

from __future__ import annotations

from django.db import models

from recordroom.kernel.ids import uuid7


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    ERROR = "error", "Error"
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate"


class InterfaceMessage(models.Model):
    """One received message. The raw bytes live encrypted in the blob store
    (`raw_sha256`); the row keeps only routing facts, never the PHI itself."""

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
    patient = models.ForeignKey(
        "mpi.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interface_messages",
    )
    ack_code = models.CharField(max_length=2, blank=True, default="")

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["sending_facility", "control_id"], name="ifmsg_sender_ctrl_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_type or '?'} {self.control_id or '?'} ({self.status})"
