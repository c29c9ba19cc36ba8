"""Pages as an OCR engine would give them, from typed text: each character 20 px
wide, each line 50 px below the last; runs of spaces keep their width (a new field)."""

from __future__ import annotations

import re

from recordroom.capture.types import PageRead, Word

CHAR, LINE, HEIGHT = 20, 50, 30


def page(
    text: str, *, number: int = 1, conf: float = 92.0, low: tuple[str, ...] = ()
) -> PageRead:
    """`text` laid out line by line; words in `low` get a poor OCR confidence (40)."""
    words: list[Word] = []
    for n, line in enumerate(text.strip("\n").splitlines()):
        y = 100 + n * LINE
        for m in re.finditer(r"\S+", line):
            x = 100 + m.start() * CHAR
            words.append(
                Word(m.group(0), (x, y, x + len(m.group(0)) * CHAR, y + HEIGHT),
                     40.0 if m.group(0) in low else conf, n)
            )  # fmt: skip
    return PageRead(number=number, width=1700, height=2200, dpi=200, words=words)
