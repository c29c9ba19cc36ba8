"""The audit event table: one row per access to or change of PHI, never updated."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Refused (not permitted)"
    FAILURE = "failure", "Failed"


class AuditEvent(models.Model):
    """An immutable event. `hash` covers every field and the previous event's hash.

    Columns are plain strings and integers (no foreign keys, no JSON type) so that the
    bytes hashed are the bytes stored on SQLite and PostgreSQL alike, and the trail
    outlives whatever it points at.
    """

    id = models.BigIntegerField(
        primary_key=True
    )  # 1, 2, 3 ... assigned under the chain lock
    ts = models.BigIntegerField(help_text="UTC time in microseconds since 1970")
    user_id = models.CharField(max_length=36, blank=True, default="")
    username = models.CharField(max_length=150, blank=True, default="")
    role = models.CharField(max_length=200, blank=True, default="")
    facility_id = models.CharField(max_length=36, blank=True, default="")
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    patient_id = models.CharField(max_length=36, blank=True, default="")
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    purpose = models.CharField(max_length=32, blank=True, default="")
    channel = models.CharField(max_length=16, blank=True, default="")
    client_address = models.CharField(max_length=64, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    detail = models.TextField(blank=True, default="", help_text="canonical JSON")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["patient_id", "id"], name="audit_patient_idx"),
            models.Index(fields=["user_id", "id"], name="audit_user_idx"),
            models.Index(fields=["action", "id"], name="audit_action_idx"),
            models.Index(fields=["ts"], name="audit_ts_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.action} by {self.username or '-'} ({self.outcome})"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise RuntimeError("audit events are append-only and cannot be changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit events are append-only and cannot be deleted")

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.ts / 1_000_000, tz=UTC)
