"""A document page rendered for the redaction page's preview: upright as it prints,
its size at the preview resolution, and the map from the shown page back to the
PDF user space in which regions are redacted, whatever the page's /Rotate and crop
box (checked against pdfium's own rendering of a black box)."""

from __future__ import annotations

import io

import pikepdf
import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from recordroom.kernel.errors import NotFound
from recordroom.release import preview
from recordroom.release.pdfs import Box

BOX = Box(100, 500, 150, 60)


def page_with_box(rotation: int, crop: list[float] | None = None) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792), invariant=1)
    c.rect(BOX.x, BOX.y, BOX.width, BOX.height, fill=1, stroke=0)
    c.showPage()
    c.save()
    with pikepdf.open(io.BytesIO(buf.getvalue())) as pdf:
        pdf.pages[0].Rotate = rotation
        if crop:
            pdf.pages[0].CropBox = crop
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


@pytest.mark.parametrize("crop", [None, [50, 40, 562, 752]])
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_the_shown_page_maps_back_to_user_space(rotation, crop):
    pdf = page_with_box(rotation, crop)
    view = preview.page_view(pdf, 1)
    image = Image.open(io.BytesIO(preview.page_png(pdf, 1))).convert("L")
    scale = preview.PREVIEW_DPI / 72
    assert abs(image.width - view.width * scale) <= 1
    assert abs(image.height - view.height * scale) <= 1
    if rotation in (90, 270):
        assert (view.width, view.height) == (view.crop.height, view.crop.width)
    # where the black box is on the image, mapped back: the box as drawn
    left, top, right, bottom = image.point(lambda p: 255 if p < 128 else 0).getbbox()
    a, b, c, d, e, f = view.matrix
    corners = [(a * u + b * v + c, d * u + e * v + f)
               for u in (left / scale, right / scale)
               for v in (top / scale, bottom / scale)]  # fmt: skip
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    assert min(xs) == pytest.approx(BOX.x, abs=1.5)
    assert min(ys) == pytest.approx(BOX.y, abs=1.5)
    assert max(xs) - min(xs) == pytest.approx(BOX.width, abs=1.5)
    assert max(ys) - min(ys) == pytest.approx(BOX.height, abs=1.5)
    # and the way back: where a redaction is drawn over the image (percent)
    shown_left, shown_top, shown_w, shown_h = view.shown(BOX)
    assert shown_left == pytest.approx(100 * left / image.width, abs=0.3)
    assert shown_top == pytest.approx(100 * top / image.height, abs=0.3)
    assert shown_w == pytest.approx(100 * (right - left) / image.width, abs=0.3)
    assert shown_h == pytest.approx(100 * (bottom - top) / image.height, abs=0.3)


def test_a_page_that_is_not_there_is_not_found():
    pdf = page_with_box(0)
    for page in (0, 2):
        with pytest.raises(NotFound, match="has no page"):
            preview.page_png(pdf, page)
        with pytest.raises(NotFound):
            preview.page_view(pdf, page)
