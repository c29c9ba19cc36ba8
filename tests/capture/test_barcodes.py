"""Barcodes, ink, blank pages and skew on real page images."""

from __future__ import annotations

import zxingcpp
from PIL import Image, ImageDraw

from recordroom.capture import barcodes

from . import scans


def _page(code: Image.Image) -> Image.Image:
    page = Image.new("L", (1700, 2200), 255)
    page.paste(code, (200, 200))
    return page


def test_code128_qr_and_datamatrix_are_read_with_their_boxes():
    dm = zxingcpp.write_barcode_to_image(
        zxingcpp.create_barcode("RRC1|p=x", zxingcpp.BarcodeFormat.DataMatrix), scale=6
    )
    for code, kind, text in (
        (scans.code128("RRSEP"), "code128", "RRSEP"),
        (scans.qr("RRC1|p=1"), "qrcode", "RRC1|p=1"),
        (Image.fromarray(dm).convert("L"), "datamatrix", "RRC1|p=x"),
    ):
        (found,) = barcodes.read_barcodes(_page(code), scale=1.5)
        assert (found.kind, found.text) == (kind, text)
        assert 190 * 1.5 <= found.bbox[0] <= 260 * 1.5 and found.bbox[2] > found.bbox[0]


def test_a_patch_t_sheet_is_read_as_patch_t():
    (found,) = barcodes.read_barcodes(_page(scans.code128("PATCHT")))
    assert found.kind == "patch-t"


def test_blank_follows_the_ink_threshold_and_keeps_a_back_side_with_a_mark():
    page = Image.new("L", (1700, 2200), 255)
    assert barcodes.ink(page) == 0.0
    ImageDraw.Draw(page).rectangle((0, 0, 1700, 40), fill=0)  # scanner edge: margin
    assert barcodes.ink(page) == 0.0
    ImageDraw.Draw(page).line((600, 1000, 1100, 1030), fill=0, width=8)  # initials
    mark = barcodes.ink(page)
    assert 0.0005 < mark < 0.005
    assert not barcodes.is_blank(mark, words=0, barcodes=0, threshold=0.0005)
    assert barcodes.is_blank(mark, words=0, barcodes=0, threshold=0.01)
    assert not barcodes.is_blank(0.0, words=3, barcodes=0, threshold=0.01)


def test_skew_is_measured_on_a_tilted_page():
    straight = scans.raster(scans.text_pdf(scans.LINES * 4), dpi=100)[0]
    assert abs(barcodes.skew(straight)) <= 0.25
    tilted = straight.rotate(3, fillcolor=255)
    assert abs(abs(barcodes.skew(tilted)) - 3) <= 0.5
