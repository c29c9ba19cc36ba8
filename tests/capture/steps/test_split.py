"""Cutting a batch's pages into documents: cover sheets and separators start one,
blank pages are left out, a cover's page count is checked."""

from __future__ import annotations

import uuid

from recordroom.capture import cover
from recordroom.capture.models import CapturePage
from recordroom.capture.steps.split import cut


def _row(number, *, code=None, blank=False, flags=()):
    return CapturePage(number=number, blank=blank, flags=list(flags),
                       barcodes=[list(code) + [0, 0, 1, 1]] if code else [])  # fmt: skip


def test_covers_and_separators_cut_documents_and_blank_pages_are_left_out():
    pid = uuid.UUID("01890000-0000-7000-8000-000000000001")
    sheet = cover.encode(cover.Cover(patient_id=pid, doc_type="18842-5", pages=3))
    rows = [
        _row(1, flags=["low-dpi"]),
        _row(2, code=("qrcode", sheet)),
        _row(3),
        _row(4, blank=True),
        _row(5, flags=["skewed"]),
        _row(6, code=("code128", "RRSEP")),
        _row(7, code=("patch-t", "PATCHT")),
        _row(8),
    ]
    runs, result = cut(rows)
    assert [r.pages for r in runs] == [[1], [3, 5], [8]]
    assert runs[1].cover == {"patient": str(pid), "encounter": "", "type": "18842-5",
                             "pages": 3, "facility": "", "page": 2}  # fmt: skip
    assert runs[1].expected == 3 and runs[1].flags == {"skewed", "page-count"}
    assert runs[0].flags == {"low-dpi"} and runs[2].cover == {}
    assert (result.documents, result.covers, result.separators, result.blank) == (
        3,
        1,
        2,
        1,
    )


def test_without_separators_the_batch_is_one_document():
    runs, _ = cut([_row(1), _row(2), _row(3)])
    assert [r.pages for r in runs] == [[1, 2, 3]]


def test_a_damaged_cover_is_not_a_cover_and_the_page_stays_in_the_document():
    runs, result = cut([_row(1, code=("qrcode", "RRC1|p=not-a-uuid")), _row(2)])
    assert [r.pages for r in runs] == [[1, 2]] and result.covers == 0
