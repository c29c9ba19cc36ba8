"""Split: the batch's pages cut into documents. A cover sheet (our barcode) or a
separator (RRSEP, PATCH-T) always starts a new document and is not part of it; blank
pages are left out (they stay with the batch); between sheets a page starts a new
document where its content says so (reading.boundary: another patient, a new title,
page 1 again, a new header and date of service). Each document keeps why it was cut
there (`evidence["split"]`), shown to the indexer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from .. import cover as covers
from ..models import CaptureBatch, CaptureDocument, CaptureDocumentStatus, CapturePage
from ..reading.boundary import SPARSE, Marks, Running, marks, new_document
from .pages import page_read


@dataclass
class Run:
    """Pages of one document being cut, and the cover sheet that started it."""

    pages: list[int] = field(default_factory=list)
    cover: dict[str, Any] = field(default_factory=dict)
    expected: int | None = None
    flags: set[str] = field(default_factory=set)
    reason: str = ""  # why a document starts here
    sparse: int = 0  # pages with a few words and no header (back-side notes)
    content: Running = field(default_factory=Running)


@dataclass(frozen=True)
class Split:
    documents: int
    covers: int
    separators: int
    blank: int
    by_content: int = 0  # documents started by what a page says


def _cover_of(row: CapturePage) -> covers.Cover | None:
    for _kind, text, *_ in row.barcodes:
        found = covers.decode(str(text))
        if found is not None:
            return found
    return None


def _is_separator(row: CapturePage) -> bool:
    return any(
        covers.is_separator(str(kind), str(text)) for kind, text, *_ in row.barcodes
    )


def cover_json(found: covers.Cover) -> dict[str, Any]:
    return {"patient": str(found.patient_id),
            "encounter": str(found.encounter_id) if found.encounter_id else "",
            "type": found.doc_type, "pages": found.pages, "facility": found.facility}  # fmt: skip


def cut(
    rows: list[CapturePage], read: Callable[[CapturePage], Marks] | None = None
) -> tuple[list[Run], Split]:
    """The runs of pages `rows` (in order) fall into, and what cut them; with `read`
    (a page's marks) a run is cut where a page's content starts a new document."""
    runs: list[Run] = [Run(reason="the batch starts")]
    n_cover = n_sep = n_blank = n_content = 0
    for row in rows:
        found = _cover_of(row)
        if found is not None or _is_separator(row):
            n_cover += found is not None
            n_sep += found is None
            what = "cover sheet" if found else "separator sheet"
            runs.append(Run(cover={**cover_json(found), "page": row.number}
                            if found else {},
                            expected=found.pages if found else None,
                            reason=f"{what} on page {row.number}"))  # fmt: skip
            runs[-1].content.expected = runs[-1].expected
            continue
        if row.blank:
            n_blank += 1
            continue
        if read is not None:
            m = read(row)
            why = new_document(runs[-1].content, m)
            if why:
                n_content += 1
                runs.append(Run(reason=why))
            runs[-1].content.add(m)
            runs[-1].sparse += m.words < SPARSE and not m.header
        runs[-1].pages.append(row.number)
        runs[-1].flags.update(row.flags)
    kept = [r for r in runs if r.pages]
    for run in kept:
        # a back side with a few words (a note, a stamp) may or may not be counted
        printed = len(run.pages) - run.sparse
        if run.expected is not None and not printed <= run.expected <= len(run.pages):
            run.flags.add("page-count")
    return kept, Split(len(kept), n_cover, n_sep, n_blank, n_content)


def split_batch(batch: CaptureBatch) -> Split:
    """Replace the batch's documents being read with those its pages cut into."""
    from ..reading.extract import facility_names

    rows = list(batch.pages.order_by("number"))
    names = facility_names()
    runs, result = cut(rows, lambda row: marks(page_read(row), names))
    with transaction.atomic():
        # a split interrupted after its commit is done again from scratch: nothing
        # of it has been read or filed yet
        batch.documents.filter(status=CaptureDocumentStatus.PENDING).delete()
        CaptureDocument.objects.bulk_create([
            CaptureDocument(batch=batch, pages=[{"page": n, "rotate": 0} for n in run.pages],
                            cover=run.cover, expected_pages=run.expected,
                            flags=sorted(run.flags), evidence={"split": run.reason})
            for run in runs
        ])  # fmt: skip
    return result
