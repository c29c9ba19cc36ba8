"""Checks an indexer sees before filing: the page count against the cover sheet's,
pages flagged unreadable, skewed or below 200 dpi, and whether the proposed patient
is doubtful (then the indexer confirms it explicitly)."""

from __future__ import annotations

from typing import Any

from .models import CaptureDocument, CapturePage

# A proposed patient below this confidence must be confirmed by the indexer (one
# chosen by the indexer counts as confirmed: confidence 1.0).
CONFIRM_BELOW = 0.98
MIN_DPI = 200

FLAG_TEXT = {
    "unreadable": "could not be read",
    "skewed": "is skewed",
    "low-dpi": f"was scanned below {MIN_DPI} dpi",
}


def doubtful(capdoc: CaptureDocument) -> bool:
    return capdoc.patient_id is None or capdoc.patient_confidence < CONFIRM_BELOW


def page_flags(page: CapturePage | None) -> list[str]:
    if page is None:
        return []
    flags = [str(f) for f in page.flags]
    if page.dpi and page.dpi < MIN_DPI and "low-dpi" not in flags:
        flags.append("low-dpi")
    return flags


def quality_problems(
    capdoc: CaptureDocument, pages: dict[int, CapturePage]
) -> list[str]:
    """Plain sentences, one per problem; empty when the document is clean."""
    problems: list[str] = []
    count = len(capdoc.pages)
    if capdoc.expected_pages is not None and capdoc.expected_pages != count:
        problems.append(
            f"the cover sheet says {capdoc.expected_pages} "
            f"page{'s' if capdoc.expected_pages != 1 else ''}; this document has "
            f"{count}"
        )
    for position, item in enumerate(capdoc.pages, 1):
        number = int(item["page"])
        for flag in page_flags(pages.get(number)):
            what = FLAG_TEXT.get(flag, f"is flagged {flag}")
            problems.append(f"page {position} (page {number} of the batch) {what}")
    return problems


def clean(capdoc: CaptureDocument, pages: dict[int, CapturePage]) -> bool:
    """Filed in one key press: patient and type proposed, nothing to check."""
    return (
        not doubtful(capdoc)
        and capdoc.doc_type_id is not None
        and not quality_problems(capdoc, pages)
    )


def summary(capdoc: CaptureDocument, pages: dict[int, CapturePage]) -> dict[str, Any]:
    problems = quality_problems(capdoc, pages)
    return {
        "problems": problems,
        "doubtful": doubtful(capdoc),
        "clean": not problems
        and not doubtful(capdoc)
        and capdoc.doc_type_id is not None,
    }
