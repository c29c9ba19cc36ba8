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
    # When the pair came on the duplicate worklist: carried from the previous scan
    # that found it, else this scan's end, or a registration that sent it to
    # review before (the MPI dashboard's worklist age).
    on_worklist_since = models.DateTimeField(null=True, blank=True)

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


class MatchOutcome(models.TextChoices):
    LINKED = "linked", "Linked to an existing record"
    REVIEW = "review", "Created, pair sent to review"
    CREATED = "created", "Created (no likely match)"


class LinkReview(models.TextChoices):
    PENDING = "", "Not reviewed"
    CORRECT = "correct", "Correct link"
    WRONG = "wrong", "Wrong link (sent to the overlay worklist)"


class MatchDecision(models.Model):
    """What search before create decided for one registration (UI, API, ADT, FHIR):
    the best candidate with its probability and evidence, the thresholds that
    applied, and the outcome. Automatic links are sampled for review from here."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    decided_at = models.DateTimeField()
    decided_by = models.CharField(max_length=150)
    source = models.CharField(max_length=16, help_text="ui, api, hl7, fhir")
    facility = models.ForeignKey(
        "mpi.Facility", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=MatchOutcome.choices)
    manual = models.BooleanField(
        default=False,
        help_text="the registrar chose the record, or chose to create despite a match",
    )
    reason = models.CharField(max_length=500, blank=True, default="")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    probability = models.FloatField(null=True, blank=True)
    match_weight = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    candidates = models.JSONField(
        default=list, blank=True, help_text="[{patient_id, probability}] best first"
    )
    thresholds = models.JSONField(default=dict, blank=True)
    identifiers_added = models.JSONField(default=list, blank=True)
    review = models.CharField(
        max_length=8, choices=LinkReview.choices, blank=True, default=""
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.CharField(max_length=150, blank=True, default="")
    review_note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-decided_at"]
        indexes = [
            models.Index(fields=["outcome", "review"], name="linkage_decision_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.patient_id} ({self.probability})"
