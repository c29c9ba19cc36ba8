"""The text of document versions, page by page, for search inside documents
(records.fulltext). Models of the records app (re-exported by records.models).

Derived data: every row can be made again from the version's bytes
(`fulltext.reindex`), so the rows are replaced when a version is indexed again.
"""

from __future__ import annotations

from django.db import models

from .models import Document, DocumentVersion


class TextStatus(models.TextChoices):
    INDEXED = "indexed", "Indexed"
    NO_TEXT = "no-text", "No text found"
    UNSUPPORTED = "unsupported", "Not a kind of file with text"
    FAILED = "failed", "Could not be read"


class VersionText(models.Model):
    """That a version has been indexed, and what was found: its page and word counts,
    or why it has no text."""

    version = models.OneToOneField(
        DocumentVersion, primary_key=True, on_delete=models.PROTECT,
        related_name="text_index",
    )  # fmt: skip
    status = models.CharField(max_length=12, choices=TextStatus.choices)
    pages = models.PositiveIntegerField(default=0)
    words = models.PositiveIntegerField(default=0)
    dpi = models.PositiveSmallIntegerField(default=0, help_text="of the word boxes")
    detail = models.CharField(max_length=300, blank=True, default="")
    indexed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.version_id}: {self.status}, {self.pages} pages"


class PageText(models.Model):
    """One page of a version: its words as found, each word's box on the page image
    at the version's `dpi` (pixels, origin top left), and `terms`, the words
    normalised (fulltext.tokens) that both databases index. `current` marks the
    pages of a document's newest indexed version: what search finds.

    The index itself: on SQLite the FTS5 table records_pagetext_fts (external
    content, kept by fulltext.py), on PostgreSQL the generated tsvector column
    `search` with its GIN index (migration 0009)."""

    id = models.BigAutoField(primary_key=True)
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.PROTECT, related_name="page_texts"
    )
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    current = models.BooleanField(default=True)
    page = models.PositiveIntegerField(help_text="1-based")
    width = models.PositiveIntegerField(default=0, help_text="page image, pixels")
    height = models.PositiveIntegerField(default=0, help_text="page image, pixels")
    text = models.TextField(help_text="words separated by spaces, lines by newlines")
    boxes = models.JSONField(
        default=list, blank=True,
        help_text="[x0, y0, x1, y1] per word of `text` (text.split()), flat",
    )  # fmt: skip
    terms = models.TextField(help_text="normalised tokens, one space between")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "page"], name="pagetext_unique")
        ]
        indexes = [
            models.Index(
                fields=["document", "current", "page"], name="pagetext_doc_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version_id} page {self.page}"
