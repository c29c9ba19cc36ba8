"""Page images for the indexing screens: a batch page rendered from the batch's PDF
(pypdfium2) to PNG, turned as the indexer turned it, kept in a small in-memory cache
(never on disk: they are PHI), and the values read placed on it as boxes."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import Any

import pypdfium2 as pdfium

from recordroom.kernel.errors import ValidationFailed

from .filing import batch_pdf
from .models import CaptureBatch, CaptureDocument, CapturePage

THUMB_WIDTH = 160
LARGE_WIDTH = 1000
_CACHE_SIZE = 256
_cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_lock = threading.Lock()


def page_png(batch: CaptureBatch, number: int, *, rotate: int = 0,
             width: int = LARGE_WIDTH) -> bytes:  # fmt: skip
    """Page `number` (1-based) of the batch as a PNG `width` pixels wide."""
    if rotate % 90:
        raise ValidationFailed(
            f"pages turn by quarter turns, not {rotate}", field="rotate"
        )
    key = (batch.searchable_sha256 or batch.sha256, number, rotate % 360, width)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    pdf = pdfium.PdfDocument(batch_pdf(batch))
    try:
        if not 1 <= number <= len(pdf):
            raise ValidationFailed(
                f"page {number} is not in the batch (it has {len(pdf)})", field="page"
            )
        page = pdf[number - 1]
        w, h = page.get_size()
        if (rotate + page.get_rotation()) % 180:
            w, h = h, w
        bitmap = page.render(scale=width / max(w, 1), rotation=rotate % 360)
        buf = io.BytesIO()
        bitmap.to_pil().convert("L").save(buf, format="PNG", optimize=True)
        data = buf.getvalue()
    finally:
        pdf.close()
    with _lock:
        _cache[key] = data
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return data


def _turn(box: tuple[float, float, float, float], rotate: int) -> tuple[float, ...]:
    """A box in page fractions (x0, y0, x1, y1) after turning the page clockwise."""
    x0, y0, x1, y1 = box
    turn = rotate % 360
    if turn == 90:
        return (1 - y1, x0, 1 - y0, x1)
    if turn == 180:
        return (1 - x1, 1 - y1, 1 - x0, 1 - y0)
    if turn == 270:
        return (y0, 1 - x1, y1, 1 - x0)
    return box


def value_boxes(
    capdoc: CaptureDocument, page: CapturePage | None, rotate: int = 0
) -> list[dict[str, Any]]:
    """The values read on this page as boxes in percent of the shown image."""
    if page is None or not page.width or not page.height:
        return []
    out = []
    for value in capdoc.values:
        bbox = value.get("bbox")
        if int(value.get("page", 0)) != page.number or not bbox:
            continue
        x0, y0, x1, y1 = (float(c) for c in bbox)
        frac = (x0 / page.width, y0 / page.height, x1 / page.width, y1 / page.height)
        left, top, right, bottom = _turn(frac, rotate)
        out.append({
            "kind": value.get("kind", ""), "text": value.get("text", ""),
            "normalised": value.get("normalised", ""),
            "confidence": value.get("confidence", 0),
            "left": round(left * 100, 2), "top": round(top * 100, 2),
            "width": round((right - left) * 100, 2),
            "height": round((bottom - top) * 100, 2),
        })  # fmt: skip
    return out
