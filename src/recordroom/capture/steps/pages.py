"""Read pages: each page of the searchable copy as a CapturePage row (words with
boxes, barcodes, ink, blank, rotation, skew, dpi, flags), stored a few at a time so
that a batch interrupted half-way resumes at its first unread page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from recordroom.kernel.blobs import default_store

from ..models import CaptureBatch, CapturePage
from ..ocr import iter_pages
from ..types import Barcode, PageRead, Word

CHUNK = 20  # pages written per transaction


@dataclass(frozen=True)
class PagesRead:
    pages: int
    blank: int
    flagged: int
    resumed_at: int  # the first page read by this run (1 unless resumed)


def page_row(batch: CaptureBatch, page: PageRead) -> CapturePage:
    return CapturePage(
        batch=batch, number=page.number, width=page.width, height=page.height,
        dpi=page.dpi, rotation=page.rotation, skew=page.skew, ink=page.ink,
        blank=page.blank, text=page.text,
        words=[[w.text, *w.bbox, w.conf, w.line] for w in page.words],
        barcodes=[[b.kind, b.text, *b.bbox] for b in page.barcodes],
        flags=list(page.flags),
    )  # fmt: skip


def page_read(row: CapturePage) -> PageRead:
    """A stored page as the reading steps take it."""
    return PageRead(
        number=row.number, width=row.width, height=row.height, dpi=row.dpi,
        words=[Word(str(w[0]), (int(w[1]), int(w[2]), int(w[3]), int(w[4])),
                    float(w[5]), int(w[6])) for w in row.words],
        barcodes=[Barcode(str(b[0]), str(b[1]), (int(b[2]), int(b[3]), int(b[4]),
                                                 int(b[5]))) for b in row.barcodes],
        ink=row.ink, blank=row.blank, rotation=row.rotation, skew=row.skew,
        flags=list(row.flags),
    )  # fmt: skip


def read_batch_pages(
    batch: CaptureBatch, *, beat: Callable[[], None] = lambda: None
) -> PagesRead:
    """Read every page not stored yet; returns the whole batch's counts."""
    done = batch.pages.aggregate(n=Max("number"))["n"] or 0
    pdf = default_store().get(batch.searchable_sha256 or batch.sha256)
    pending: list[CapturePage] = []

    def flush() -> None:
        with transaction.atomic():
            CapturePage.objects.bulk_create(pending)
        pending.clear()
        beat()

    for page in iter_pages(pdf, start=done + 1):
        pending.append(page_row(batch, page))
        if len(pending) >= CHUNK:
            flush()
    if pending:
        flush()
    rows = batch.pages.all()
    total = rows.count()
    CaptureBatch.objects.filter(pk=batch.pk).update(page_count=total)
    batch.page_count = total
    return PagesRead(
        pages=total,
        blank=rows.filter(blank=True).count(),
        flagged=sum(1 for f in rows.values_list("flags", flat=True) if f),
        resumed_at=done + 1,
    )
