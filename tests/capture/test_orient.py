"""Orientation and skew of scanned pages from their images (capture.orient), against
pages the demo generator printed and then turned and skewed by known amounts; a PDF
stood upright and levelled without its scanned image being touched; Tesseract asked
only about what the image test cannot tell."""

from __future__ import annotations

import io
from collections import Counter
from functools import cache

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from recordroom.capture import ocr, orient
from recordroom.demo import scan_image
from recordroom.demo.scan_layout import document_pdf
from recordroom.demo.scans import plan_batches, population_from_plans

from . import scans


@cache
def _document(layout: str) -> bytes:
    """A generated document of `layout` running to two pages or more (its first
    page is a full one), as the generator prints it (a born-digital PDF)."""
    plans = plan_batches(population_from_plans(people=40, seed=5), seed=5, pages=80)
    for plan in plans:
        for doc in plan.docs:
            if doc.printed.layout == layout and doc.printed.pages >= 2:
                return document_pdf(doc.printed)
    raise AssertionError(f"no {layout} document in the plan")


def _printed(layout: str) -> Image.Image:
    return scan_image.rasterise(_document(layout), orient.ORIENT_DPI)[0]


def _printed_text(layout: str) -> str:
    doc = pdfium.PdfDocument(_document(layout))
    try:
        return doc[0].get_textpage().get_text_range()
    finally:
        doc.close()


def _scanned(layout: str, *, turn: int, skew: float) -> Image.Image:
    """As the generator scans a page: skewed, to black and white, turned `turn`
    degrees counter-clockwise."""
    page = scan_image.skew(_printed(layout), skew, smooth=False)
    return scan_image.finish(page, bilevel=True, turn=turn).convert("L")


@pytest.mark.parametrize("layout", ["ours", "outside"])
def test_the_turn_and_skew_of_a_generated_page_are_found(layout):
    decided = 0
    for turn in (0, 90, 180, 270):
        for skew in (-3.0, 1.5):
            found = orient.orientation(_scanned(layout, turn=turn, skew=skew))
            assert found.lines >= orient.MIN_LINES
            assert abs(found.skew + skew) <= 0.25  # levelled by turning it back
            # turned `turn` counter-clockwise: stands upright turned as much
            # clockwise; never turned wrong: unsure, it is left to Tesseract
            assert found.turn == (turn if found.sure else 0)
            if turn == 0:
                assert found.sure  # an upright page costs no Tesseract pass
            decided += found.sure
    assert decided >= 5  # of 8; the others cost a Tesseract orientation pass


def test_a_lab_report_is_turned_right_by_one_test_or_the_other():
    for turn in (0, 180):
        found = orient.orientation(_scanned("lab", turn=turn, skew=1.0))
        assert found.turn == (turn if found.sure else 0)
        assert found.lines >= orient.MIN_LINES and abs(found.skew + 1.0) <= 0.25
    pdf = _pdf([_scanned("lab", turn=180, skew=0.0)])
    _, done = orient.straighten(pdf, pages=[1], rotate=True, deskew=True,
                                confidence=ocr.ROTATE_CONFIDENCE)  # fmt: skip
    assert done.turned.get(1, 180) == 180  # turned right, or left as it lies


_TESTS = ["CREATININE", "SODIUM", "POTASSIUM", "CHLORIDE", "GLUCOSE", "CALCIUM"]


def test_a_page_in_capitals_is_left_to_tesseract():
    # capitals and digits only: no ascenders, no descenders, no telling up from down
    lines = tuple(f"{_TESTS[i % 6]} {i * 13 % 97}.{i % 10} MG/DL REF {i % 5 + 1}-"
                  f"{i % 7 + 9} COLLECTED {i % 12 + 1:02d}/{i % 28 + 1:02d}/2026"
                  for i in range(28))  # fmt: skip
    page = scans.raster(scans.text_pdf(lines), dpi=orient.ORIENT_DPI, turn=180)[0]
    found = orient.orientation(page)
    assert found.lines >= orient.MIN_LINES and found.cased == 0 and not found.sure
    pdf = ocr.image_to_pdf(scans.png(page, dpi=orient.ORIENT_DPI))
    _, done = orient.straighten(pdf, pages=[1], rotate=True, deskew=True,
                                confidence=ocr.ROTATE_CONFIDENCE)  # fmt: skip
    assert done.asked == 1 and done.turned.get(1, 180) == 180


@pytest.mark.parametrize("turn", [90, 180])
def test_a_page_the_image_test_cannot_tell_is_turned_by_tesseract(turn):
    # the same lines seven times over: columns as sharp as the lines
    page = scans.raster(scans.text_pdf(scans.LINES * 7), dpi=200, turn=turn)[0]
    pdf = ocr.image_to_pdf(scans.png(page, dpi=200))
    _, done = orient.straighten(pdf, pages=[1], rotate=True, deskew=True,
                                confidence=ocr.ROTATE_CONFIDENCE)  # fmt: skip
    assert done.asked == 1 and done.turned == {1: turn}


def test_a_blank_page_has_nothing_to_tell():
    found = orient.orientation(Image.new("L", (1275, 1650), 255))
    assert found == orient.Orientation(0, 0.0, False, 0, 0)


def test_tesseract_turns_only_a_page_it_is_confident_about():
    page = scans.raster(scans.text_pdf(scans.LINES * 7), dpi=200, turn=90)[0]
    assert orient.tesseract_turn(page, confidence=ocr.ROTATE_CONFIDENCE, dpi=200) == 90
    assert orient.tesseract_turn(Image.new("L", (2550, 3300), 255), confidence=0) == 0


def _pdf(images: list[Image.Image]) -> bytes:
    return ocr.image_to_pdf(scans.tiff(images, dpi=(150, 150)))


def test_straighten_turns_and_levels_pages_and_keeps_the_scanned_image():
    upside_down = _scanned("outside", turn=180, skew=2.0)
    straight = _scanned("ours", turn=0, skew=0.0)
    pdf = _pdf([upside_down, straight])
    done_pdf, done = orient.straighten(pdf, pages=[1, 2], rotate=True, deskew=True,
                                       confidence=ocr.ROTATE_CONFIDENCE)  # fmt: skip
    assert done.turned == {1: 180} and list(done.levelled) == [1] and done.asked == 0
    assert abs(done.levelled[1] + 2.0) <= 0.25
    with (
        pikepdf.open(io.BytesIO(pdf)) as before,
        pikepdf.open(io.BytesIO(done_pdf)) as after,
    ):
        assert after.pages[0].Rotate == 180 and after.pages[1].get("/Rotate", 0) == 0
        old = next(iter(before.pages[0].get_images().values()))
        new = next(iter(after.pages[0].get_images().values()))
        assert new.read_raw_bytes() == old.read_raw_bytes()  # the G4 image untouched
    # as displayed now, the page stands upright and level
    doc = pdfium.PdfDocument(done_pdf)
    again = orient.orientation(doc[0].render(scale=orient.ORIENT_DPI / 72).to_pil())
    assert again.sure and again.turn == 0 and abs(again.skew) <= 0.25
    doc.close()


def test_straighten_leaves_a_pdf_with_nothing_to_do_as_it_was():
    pdf = _pdf([_scanned("ours", turn=0, skew=0.0)])
    same, done = orient.straighten(pdf, pages=[1], rotate=True, deskew=True,
                                   confidence=ocr.ROTATE_CONFIDENCE)  # fmt: skip
    assert same is pdf and not done.turned and not done.levelled


def test_an_upside_down_skewed_scan_is_read_upright_and_level():
    page = _scanned("outside", turn=180, skew=-2.5)
    made = ocr.searchable(_pdf([page]))
    (read,) = ocr.read_pages(made.pdf)
    assert read.rotation == 180  # turned by /Rotate, the scan kept as it was
    assert abs(read.skew) <= 0.5 and "skewed" not in read.flags
    # the words the generator printed on the page, read back
    printed = Counter(_printed_text("outside").split())
    found = Counter(w.text for w in read.words)
    assert sum((printed & found).values()) >= 0.8 * sum(printed.values())
