"""A document page as an image for the redaction page: rendered server side
(pypdfium2) upright as it prints, with the affine map from the image's points back
to the page's user space, in which redaction regions are given (PDF points, origin
at the bottom left, before the page's /Rotate).

The browser only scales pixels to points and applies the map (web/static/recordroom/
redact.js); the rotation and crop-box arithmetic is here, tested against pdfium's
own rendering."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdfium2 as pdfium

from recordroom.kernel.errors import NotFound

from .pdfs import Box, find_text

# Readable on screen and about 0.1-0.3 MB a letter page as PNG.
PREVIEW_DPI = 100


@dataclass(frozen=True)
class PageView:
    """One page as shown: its size in points upright (`width`, `height`), the crop
    box in user space, the /Rotate (0, 90, 180, 270) and `matrix` (a, b, c, d, e,
    f): a point (u, v) of the shown page, in points from its top left, is
    x = a*u + b*v + c, y = d*u + e*v + f in user space."""

    page: int
    pages: int
    width: float
    height: float
    crop: Box
    rotation: int
    matrix: tuple[float, float, float, float, float, float]

    def shown(self, box: Box) -> tuple[float, float, float, float]:
        """A user-space box as (left, top, width, height) in percent of the shown
        page: where to draw a redaction over the image."""
        corners = [self.to_shown(box.x + dx, box.y + dy)
                   for dx in (0, box.width) for dy in (0, box.height)]  # fmt: skip
        us, vs = [c[0] for c in corners], [c[1] for c in corners]
        return (100 * min(us) / self.width, 100 * min(vs) / self.height,
                100 * (max(us) - min(us)) / self.width,
                100 * (max(vs) - min(vs)) / self.height)  # fmt: skip

    def to_shown(self, x: float, y: float) -> tuple[float, float]:
        """The inverse of `matrix`: a user-space point on the shown page."""
        a, b, c, d, e, f = self.matrix
        det = a * e - b * d
        dx, dy = x - c, y - f
        return (e * dx - b * dy) / det, (a * dy - d * dx) / det


def _matrix(
    crop: Box, rotation: int
) -> tuple[float, float, float, float, float, float]:
    """/Rotate turns the page clockwise for display; undo it (see PageView)."""
    left, bottom, w, h = crop.x, crop.y, crop.width, crop.height
    return {
        0: (1.0, 0.0, left, 0.0, -1.0, bottom + h),
        90: (0.0, 1.0, left, 1.0, 0.0, bottom),
        180: (-1.0, 0.0, left + w, 0.0, 1.0, bottom),
        270: (0.0, -1.0, left + w, -1.0, 0.0, bottom + h),
    }[rotation]


def _page(doc: pdfium.PdfDocument, page: int) -> pdfium.PdfPage:
    if not 1 <= page <= len(doc):
        raise NotFound(f"the document has no page {page} (it has {len(doc)})")
    return doc[page - 1]


def _view(doc: pdfium.PdfDocument, page: int) -> PageView:
    p = _page(doc, page)
    left, bottom, right, top = p.get_cropbox()
    crop = Box(left, bottom, right - left, top - bottom)
    rotation = p.get_rotation() % 360
    w, h = (
        (crop.height, crop.width)
        if rotation in (90, 270)
        else (crop.width, crop.height)
    )
    return PageView(page, len(doc), w, h, crop, rotation, _matrix(crop, rotation))


def page_view(pdf: bytes, page: int) -> PageView:
    """The geometry of a 1-based page as shown.

    Raises:
        NotFound: no such page."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return _view(doc, page)
    finally:
        doc.close()


def page_png(pdf: bytes, page: int, *, dpi: int = PREVIEW_DPI) -> bytes:
    """Page `page` (1-based) as a PNG at `dpi`, upright as it prints: about
    width * dpi / 72 by height * dpi / 72 pixels.

    Raises:
        NotFound: no such page."""
    doc = pdfium.PdfDocument(pdf)
    try:
        image = _page(doc, page).render(scale=dpi / 72, may_draw_forms=True).to_pil()
        out = io.BytesIO()
        image.convert("RGB").save(out, "PNG", optimize=False, compress_level=6)
        return out.getvalue()
    finally:
        doc.close()


def text_boxes(pdf: bytes, page: int, texts: list[str]) -> list[Box]:
    """Where the texts redacted on the page occur (to show them on the preview)."""
    boxes: list[Box] = []
    for text in dict.fromkeys(texts):
        boxes += find_text(pdf, text, [page]).get(page, [])
    return boxes
