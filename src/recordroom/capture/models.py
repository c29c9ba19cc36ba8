"""Capture's tables: where paper comes from, each file received, its pages, the documents
cut from it, the thresholds that let a document file itself, and misfile corrections."""

from __future__ import annotations

from django.db import models

from recordroom.kernel.ids import uuid7
from recordroom.mpi.models import Patient
from recordroom.records.models import Document, DocumentType, Encounter, Facility


class SourceKind(models.TextChoices):
    SCANNER = "scanner", "Scanner (watched folder)"
    FAX = "fax", "Fax line (watched folder)"
    UPLOAD = "upload", "Upload (web)"
    API = "api", "API"
    IMPORT = "import", "Command-line import"


class CaptureSource(models.Model):
    """A scanner, a fax line or an intake route; thresholds and statistics are kept
    per source."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=10, choices=SourceKind.choices)
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class BatchStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    INDEXING = "indexing", "Waiting for indexing"
    DONE = "done", "Done"  # every document filed or removed
    DUPLICATE = "duplicate", "Duplicate of an earlier batch"
    REFUSED = "refused", "Refused"  # could not be read; reason in `problem`


class CaptureBatch(models.Model):
    """One file received. The original is kept byte for byte in the blob store under
    `sha256` whatever happens to it next."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    source = models.ForeignKey(
        CaptureSource, on_delete=models.PROTECT, related_name="batches"
    )
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    filename = models.CharField(max_length=255)
    media_type = models.CharField(max_length=100, blank=True, default="")
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    page_count = models.PositiveIntegerField(default=0)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=BatchStatus.choices, default=BatchStatus.RECEIVED
    )
    # the last pipeline step that finished: a worker restarted after a kill resumes
    # from the next one
    step = models.CharField(max_length=40, blank=True, default="")
    problem = models.CharField(max_length=500, blank=True, default="")
    # the normalised (PDF/A, text layer) copy, once made
    searchable_sha256 = models.CharField(max_length=64, blank=True, default="")
    received_at = models.DateTimeField()
    received_by = models.CharField(max_length=150)
    finished_at = models.DateTimeField(null=True, blank=True)
    # the worker running the batch now ("host:pid", blank when none) and its last sign
    # of life: a batch whose worker died is taken up again (pipeline.claim)
    worker = models.CharField(max_length=300, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # each finished step: [{"step": "normalise", "at": iso, "worker": "host:pid",
    # "seconds": 1.2, "result": {...}}]
    log = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "received_at"], name="capture_batch_status"),
            models.Index(fields=["source", "received_at"], name="capture_batch_source"),
        ]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"


class CapturePage(models.Model):
    """A page of a batch as read: its words with their boxes, barcodes, ink and the
    quality flags an indexer sees."""

    batch = models.ForeignKey(
        CaptureBatch, on_delete=models.CASCADE, related_name="pages"
    )
    number = models.PositiveIntegerField()  # 1-based, in the original file
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    dpi = models.PositiveIntegerField(default=0)
    rotation = models.SmallIntegerField(default=0)
    skew = models.FloatField(default=0.0)
    ink = models.FloatField(default=0.0)
    blank = models.BooleanField(default=False)
    text = models.TextField(blank=True, default="")
    # [[text, x0, y0, x1, y1, conf, line], ...] in page pixels at `dpi`
    words = models.JSONField(default=list, blank=True)
    barcodes = models.JSONField(default=list, blank=True)  # [[kind, text, x0..y1]]
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "number"], name="capture_page_unique"
            )
        ]
        ordering = ["batch", "number"]

    def __str__(self) -> str:
        return f"page {self.number} of {self.batch_id}"


class CaptureDocumentStatus(models.TextChoices):
    PENDING = "pending", "Being read"
    QUEUED = "queued", "Waiting for an indexer"
    FILED = "filed", "Filed"
    REMOVED = "removed", "Removed"  # not a document (kept with the batch)


class CaptureDocument(models.Model):
    """A run of pages cut from a batch that becomes one document in a chart: what was
    read from it, what the pipeline proposes, and what was decided."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    batch = models.ForeignKey(
        CaptureBatch, on_delete=models.PROTECT, related_name="documents"
    )
    # the pages in order: [{"page": 3, "rotate": 0}, ...]
    pages = models.JSONField(default=list)
    status = models.CharField(
        max_length=10,
        choices=CaptureDocumentStatus.choices,
        default=CaptureDocumentStatus.PENDING,
    )
    # the proposal (or the indexer's choice once filed)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient_confidence = models.FloatField(default=0.0)
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    doc_type = models.ForeignKey(
        DocumentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    type_confidence = models.FloatField(default=0.0)
    service_date = models.DateField(null=True, blank=True)
    values = models.JSONField(default=list, blank=True)  # [Value.as_json(), ...]
    evidence = models.JSONField(default=dict, blank=True)  # {"patient": [...], ...}
    cover = models.JSONField(default=dict, blank=True)  # the cover sheet read, if any
    expected_pages = models.PositiveIntegerField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    queue_reasons = models.JSONField(default=list, blank=True)
    auto_filed = models.BooleanField(default=False)
    filed = models.OneToOneField(
        Document,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="capture",
    )
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="capture_doc_status"),
            # the dashboard's filed-in-a-period counts (capture 0004)
            models.Index(fields=["status", "decided_at"], name="capture_doc_decided"),
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{len(self.pages)} pages of {self.batch_id} ({self.status})"


class AutoFileRule(models.Model):
    """When a document may file itself. The most specific rule wins: source and type,
    then source, then type, then the default (both blank). Configuration is data."""

    source = models.ForeignKey(
        CaptureSource, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    doc_type = models.ForeignKey(
        DocumentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    enabled = models.BooleanField(default=True)
    min_patient = models.FloatField(default=0.98)
    min_type = models.FloatField(default=0.90)
    updated_at = models.DateTimeField(auto_now=True)

    # one rule per (source, type) pair, blanks included: the service keeps it so
    # (a unique constraint treats two blanks as different on every database)

    def __str__(self) -> str:
        return f"auto-file rule {self.pk}: patient {self.min_patient}, type {self.min_type}"


class TypeModel(models.Model):
    """The document-type classifier trained on the documents already filed (and the
    indexers' corrections); the newest row is used."""

    trained_at = models.DateTimeField()
    documents = models.PositiveIntegerField()
    weights = models.JSONField()

    class Meta:
        ordering = ["-trained_at"]

    def __str__(self) -> str:
        return f"type model of {self.trained_at:%Y-%m-%d %H:%M} ({self.documents} documents)"


class DocumentMove(models.Model):
    """A filed document moved to another patient (a misfile corrected), with its reason;
    the first patient's chart may have been seen by others, so the move waits for the
    privacy officer's review."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="moves"
    )
    from_patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+"
    )
    to_patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    from_encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500)
    moved_by = models.CharField(max_length=150)
    moved_at = models.DateTimeField()
    privacy_reviewed_by = models.CharField(max_length=150, blank=True, default="")
    privacy_reviewed_at = models.DateTimeField(null=True, blank=True)
    privacy_note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-moved_at"]

    def __str__(self) -> str:
        return f"move of {self.document_id} at {self.moved_at:%Y-%m-%d}"
