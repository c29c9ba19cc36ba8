"""OCR and page reading on real files: Tesseract reads a scanned page, a G4 fax, a
page scanned sideways; a PDF with text is not OCRed again; words keep their boxes."""

from __future__ import annotations

import io

import pikepdf
from PIL import Image

from recordroom.capture import ocr

from . import scans


def _words(page):
    return [w.text for w in page.words]


def test_a_text_pdf_is_read_from_its_text_layer_and_not_ocred_again():
    data = scans.text_pdf(scans.LINES)
    assert ocr.make_searchable(data) == data  # the very same bytes
    (page,) = ocr.read_pages(data)
    assert (page.dpi, page.width, page.height) == (300, 2550, 3300)
    assert _words(page)[:4] == ["DISCHARGE", "SUMMARY", "Patient:", "DOE,"]
    first = page.words[0]
    # reportlab drew it at x=72pt, baseline 720pt: one inch from the left at 300 dpi
    assert abs(first.bbox[0] - 300) <= 8 and 240 < first.bbox[1] < 270
    assert first.conf == -1.0 and first.line == 0 and page.words[2].line == 1
    assert page.flags == [] and not page.blank and page.rotation == 0


def test_a_scanned_page_gets_a_text_layer_and_its_words_with_boxes():
    image = scans.raster(scans.text_pdf(scans.LINES), dpi=300)[0]
    pdf = ocr.image_to_pdf(scans.png(image, dpi=300))
    made = ocr.searchable(pdf)
    assert made.ocr_pages == 1 and ocr.has_text(made.pdf) == [True]
    with pikepdf.open(io.BytesIO(made.pdf)) as out:
        assert "/Metadata" in out.Root  # PDF/A metadata
    (page,) = ocr.read_pages(made.pdf)
    assert page.dpi == 300 and "004512" in _words(page) and "DISCHARGE" in _words(page)
    mrn = next(w for w in page.words if w.text == "004512")
    assert 400 < mrn.bbox[0] < 1500 and mrn.bbox[2] > mrn.bbox[0]


def test_a_multi_page_g4_fax_keeps_its_pages_and_is_flagged_low_dpi():
    pages = scans.raster(scans.text_pdf(scans.LINES, None), dpi=100)
    pdf = ocr.image_to_pdf(scans.tiff(pages, dpi=(100, 100)))
    with pikepdf.open(io.BytesIO(pdf)) as out:
        assert len(out.pages) == 2
        (image,) = out.pages[0].images.values()
        assert [str(f) for f in image.Filter] == [
            "/CCITTFaxDecode"
        ]  # G4 kept, not re-encoded
    read = ocr.read_pages(pdf)
    assert [p.dpi for p in read] == [100, 100]
    assert read[0].flags == ["low-dpi", "unreadable"]  # not OCRed yet: no text
    assert read[1].blank and read[1].flags == ["low-dpi"]


def test_a_page_scanned_sideways_is_turned_upright():
    image = scans.raster(scans.text_pdf(scans.LINES * 7), dpi=200, turn=90)[0]
    made = ocr.searchable(ocr.image_to_pdf(scans.png(image, dpi=200)))
    (page,) = ocr.read_pages(made.pdf)
    assert page.words[0].text == "DISCHARGE"  # read upright, first in reading order
    assert page.width < page.height  # portrait again


def test_an_image_without_a_resolution_is_taken_as_letter_wide():
    out = io.BytesIO()
    Image.new("L", (1700, 2200), 255).save(out, "PNG")
    (page,) = ocr.read_pages(ocr.image_to_pdf(out.getvalue()))
    assert page.dpi == 200 and page.blank and page.flags == []
