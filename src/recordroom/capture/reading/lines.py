"""A page's words as lines of text that remember where each character came from, so
that a value found by a pattern in the text gets the box of the words it spans."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from recordroom.capture.types import BBox, PageRead, Word

GAP = "\t"  # between two words further apart than a space: a new field starts


@dataclass
class Line:
    page: int
    index: int
    words: list[Word]  # left to right
    text: str = ""
    starts: list[int] = field(default_factory=list)  # offset of each word in text

    def words_in(self, start: int, end: int) -> list[Word]:
        return [
            w
            for w, s in zip(self.words, self.starts, strict=True)
            if s < end and start < s + len(w.text)
        ]

    def bbox(self, start: int, end: int) -> BBox | None:
        return union([w.bbox for w in self.words_in(start, end)])

    def ocr_confidence(self, start: int, end: int) -> float:
        """0..1: Tesseract's word confidences; a text-layer word counts as sure."""
        confs = [1.0 if w.conf < 0 else w.conf / 100 for w in self.words_in(start, end)]
        return min(confs) if confs else 0.0

    @property
    def x0(self) -> int:
        return self.words[0].bbox[0] if self.words else 0


def union(boxes: list[BBox]) -> BBox | None:
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def page_lines(page: PageRead) -> list[Line]:
    """The page's lines in reading order; words further apart than about a
    character's height (and one and a half characters' width) are joined by GAP
    instead of a space."""
    grouped: dict[int, list[Word]] = {}
    for w in page.words:
        if w.text.strip():
            grouped.setdefault(w.line, []).append(w)
    out: list[Line] = []
    for n, (_, words) in enumerate(sorted(grouped.items())):
        words.sort(key=lambda w: w.bbox[0])
        height = statistics.median(max(1, w.bbox[3] - w.bbox[1]) for w in words)
        # a typewriter font's single space is as wide as its capitals are tall: a
        # field gap is also wider than one and a half characters
        char = statistics.median(
            max(1, w.bbox[2] - w.bbox[0]) / max(1, len(w.text)) for w in words
        )
        line = Line(page=page.number, index=n, words=words)
        parts: list[str] = []
        pos = 0
        for k, w in enumerate(words):
            if k:
                gap = w.bbox[0] - words[k - 1].bbox[2]
                sep = GAP if gap > 1.2 * height and gap > 1.6 * char else " "
                parts.append(sep)
                pos += 1
            line.starts.append(pos)
            parts.append(w.text)
            pos += len(w.text)
        line.text = "".join(parts)
        out.append(line)
    return out
