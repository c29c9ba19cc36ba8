"""Writing PDF text with reportlab at speed: the string escape as one C-level
`str.translate` table, and compressed streams without the ASCII85 wrapping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from reportlab import rl_config
from reportlab.pdfgen import canvas


def _escape_table() -> dict[int, str]:
    table = {}
    for c in range(256):
        ch = chr(c)
        table[c] = (
            f"\\{c:03o}" if c < 32 or c >= 127 else ("\\" + ch if ch in "\\()" else ch)
        )
    return table


# Latin-1 code point -> its form inside a PDF literal string "( ... )".
PDF_ESCAPES = _escape_table()


@contextmanager
def no_ascii85() -> Iterator[None]:
    """ASCII85 around compressed streams only inflates them (a 7-bit-mail relic),
    and reportlab's encoder is pure Python here."""
    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


class FastCanvas(canvas.Canvas):
    """reportlab's pure-Python string escape is a per-character loop; translate is C."""

    def _escape(self, s: str | bytes) -> str:
        text = s.decode("latin-1") if isinstance(s, bytes) else s
        return text.translate(PDF_ESCAPES)
