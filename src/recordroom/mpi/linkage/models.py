"""Linkage runs (the model used, how far a scan got) and the candidate pairs a scan
found: the duplicate worklist, with each pair's evidence."""

from __future__ import annotations

from django.db import models

from recordroom.kernel.ids import uuid7
from recordroom.mpi.models import Patient


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    ABANDONED = "abandoned", "Abandoned (the index changed before it was resumed)"


class LinkageRun(models.Model):
    """One scan of the index. `model` is the linkage model (JSON) every pair of the
    run was scored with; `chunks_done` is where a resumed scan continues."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.CharField(max_length=150, blank=True, default="")
    fingerprint = models.CharField(max_length=200)
    seed = models.IntegerField(default=1)
    model = models.JSONField(default=dict, blank=True)
    phase = models.CharField(max_length=20, default="load")
    records = models.IntegerField(default=0)
    candidate_pairs = models.BigIntegerField(default=0)
    chunk_size = models.IntegerField(default=200_000)
    chunks_total = models.IntegerField(default=0)
    chunks_done = models.IntegerField(default=0)
    stored_pairs = models.IntegerField(default=0)
    clusters = models.IntegerField(default=0)
    min_probability = models.FloatField(
        default=0.05, help_text="Pairs below this probability are not kept"
    )
    blocking = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"linkage run {self.pk} ({self.status})"


class CandidatePair(models.Model):
    """Two patient records that may be one person (left id < right id)."""

    run = models.ForeignKey(LinkageRun, on_delete=models.CASCADE, related_name="pairs")
    left = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    right = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField()
    match_weight = models.FloatField()
    evidence = models.JSONField(default=list)
    cluster = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-probability", "left_id", "right_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "left", "right"], name="linkage_pair_unique"
            )
        ]
        indexes = [
            models.Index(fields=["run", "-probability"], name="linkage_pair_prob_idx"),
            models.Index(fields=["run", "cluster"], name="linkage_pair_cluster_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} ~ {self.right_id} ({self.probability:.3f})"
