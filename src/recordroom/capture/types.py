"""The values the capture pipeline's steps pass to one another (no Django models).

Coordinates are pixels of the page image the OCR read, at `PageRead.dpi`, origin at
the top left; `bbox` is (x0, y0, x1, y1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

BBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class Word:
    text: str
    bbox: BBox
    conf: float  # 0..100 as Tesseract reports it; -1 for a text-layer word
    line: int = 0  # the line's index on its page, in reading order


@dataclass(frozen=True)
class Barcode:
    kind: str  # "code128", "qrcode", "datamatrix", "patch-t" ...
    text: str
    bbox: BBox


@dataclass
class PageRead:
    """One page of a batch as the pipeline saw it."""

    number: int  # 1-based, in the original file
    width: int
    height: int
    dpi: int
    words: list[Word] = field(default_factory=list)
    barcodes: list[Barcode] = field(default_factory=list)
    ink: float = 0.0  # share of dark pixels, 0..1
    blank: bool = False
    rotation: int = 0  # degrees turned to read it upright
    skew: float = 0.0  # degrees
    flags: list[str] = field(default_factory=list)  # "low-dpi", "skewed", "unreadable"

    @property
    def text(self) -> str:
        lines: dict[int, list[str]] = {}
        for w in self.words:
            lines.setdefault(w.line, []).append(w.text)
        return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))


# Kinds of value read from a page: what identifies the patient, the visit and the
# document.
VALUE_KINDS = (
    "mrn",
    "account",
    "name",
    "family",
    "given",
    "birth_date",
    "service_date",
    "facility",
    "author",
    "doc_type",
    "pages",
)


@dataclass(frozen=True)
class Value:
    kind: str  # one of VALUE_KINDS
    text: str  # as printed on the page
    normalised: str  # MRN digits, ISO date, "FAMILY, GIVEN", LOINC code ...
    page: int
    bbox: BBox | None
    confidence: float  # 0..1
    source: str = "text"  # "text" or "barcode"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "normalised": self.normalised,
            "page": self.page,
            "bbox": list(self.bbox) if self.bbox else None,
            "confidence": round(self.confidence, 4),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Value:
        bbox = d.get("bbox")
        return cls(
            kind=d["kind"],
            text=d["text"],
            normalised=d["normalised"],
            page=int(d["page"]),
            bbox=tuple(bbox) if bbox else None,  # type: ignore[arg-type]
            confidence=float(d["confidence"]),
            source=d.get("source", "text"),
        )


@dataclass(frozen=True)
class PatientGuess:
    patient_id: Any  # a Patient's pk, or None when nobody matched
    confidence: float  # 0..1
    evidence: list[str]  # plain reasons: "MRN 004512 at GEN", "name and birth date"
    candidates: list[tuple[Any, float]] = field(default_factory=list)


@dataclass(frozen=True)
class TypeGuess:
    code: str | None  # a DocumentType code, or None
    confidence: float
    evidence: list[str]


@dataclass(frozen=True)
class Proposal:
    patient: PatientGuess
    encounter_id: Any  # an Encounter's pk or None
    doc_type: TypeGuess
    service_date: date | None
    values: list[Value]
    # what stops it filing itself whatever the confidences (page count, unreadable
    # pages, two patients in one document, a patient outside the facility): plain
    # reasons, shown to the indexer
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    auto_file: bool
    reasons: list[str]  # why it was queued (empty when auto-filed)
