"""OCR and page reading: a scan as a searchable PDF (OCRmyPDF and Tesseract), and
each page's words with their boxes (from the text layer, by pdfium), barcodes, ink,
skew and quality flags. Images become a PDF first, at their own resolution.

Words are read from the text layer rather than by a second Tesseract pass: OCRmyPDF
placed each word at Tesseract's box, so the layer holds the same boxes, and reading
it costs milliseconds a page (a born-digital PDF's own text is read the same way).
"""

from __future__ import annotations

import ctypes
import io
import logging
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.conf import settings
from PIL import Image

from . import barcodes, orient
from .types import PageRead, Word

logger = logging.getLogger(__name__)

LOW_DPI = 200  # below it a page is flagged "low-dpi" (issue 13: quality checks)
SKEWED = 2.0  # degrees of skew left after deskew that flag a page "skewed"
BORN_DIGITAL_DPI = 300  # coordinates of a page without a scanned image
RENDER_DPI = 200  # the image barcodes, ink and skew are read from
# Tesseract's orientation confidence that turns a page (OCRmyPDF's default, 14, left
# typed forms scanned sideways at 7 unturned; a wrong turn is caught by the indexer)
ROTATE_CONFIDENCE = 5.0
_SPACES = {0x20, 0x09, 0xA0, 0x3000}
_BREAKS = {0x0A, 0x0D, 0x02}


def clean_available() -> bool:
    """Clean with unpaper before OCR (RECORDROOM_CAPTURE_CLEAN), if it is installed:
    a server may lack it, and then pages are OCRed without cleaning."""
    return settings.CAPTURE_CLEAN and shutil.which("unpaper") is not None


def image_to_pdf(data: bytes) -> bytes:
    """A TIFF (every page; black and white stays CCITT G4), PNG or JPEG as a PDF whose pages
    keep the image's resolution; an image without one is taken as a letter-wide
    page. Frames are encoded one at a time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img: Image.Image = Image.open(io.BytesIO(data))
        dpi = img.info.get("dpi")
        if not dpi or not dpi[0] or not dpi[1] or min(dpi) < 10:
            guess = max(round(img.size[0] / 8.5), 72)
            dpi = (guess, guess)
        if img.mode not in ("1", "L", "RGB", "CMYK", "P"):
            img = img.convert("RGB")
        out = io.BytesIO()
        img.save(out, "PDF", save_all=True, dpi=(float(dpi[0]), float(dpi[1])))
    return out.getvalue()


@dataclass(frozen=True)
class Searchable:
    pdf: bytes
    ocr_pages: int  # pages Tesseract read (the others had text already)


def has_text(pdf: bytes) -> list[bool]:
    """Per page: does its text layer hold any word?"""
    doc = pdfium.PdfDocument(pdf)
    try:
        found = []
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            found.append(bool(textpage.get_text_range().strip()))
            textpage.close()
            page.close()
        return found
    finally:
        doc.close()


def make_searchable(pdf: bytes, *, jobs: int = 1) -> bytes:
    """`pdf` as PDF/A (RECORDROOM_CAPTURE_PDFA; a plain PDF when the input holds
    what PDF/A cannot, never a failure) with a text layer: pages turned upright by
    orientation detection and levelled (RECORDROOM_CAPTURE_ROTATE, _DESKEW; see
    `orient`), cleaned when unpaper is installed. A PDF whose every page has text is
    returned as it is (not re-OCRed); in a mixed one only the pages without text are
    read."""
    return searchable(pdf, jobs=jobs).pdf


def searchable(pdf: bytes, *, jobs: int = 1) -> Searchable:
    texts = has_text(pdf)
    if texts and all(texts):
        return Searchable(pdf, 0)
    import ocrmypdf

    if settings.CAPTURE_ROTATE or settings.CAPTURE_DESKEW:
        # orientation and skew from the page images here (numpy, milliseconds a
        # page): OCRmyPDF's own are each one more Tesseract pass per page
        scans = [n for n, has in enumerate(texts, 1) if not has]
        pdf, done = orient.straighten(
            pdf, pages=scans, rotate=settings.CAPTURE_ROTATE,
            deskew=settings.CAPTURE_DESKEW, confidence=ROTATE_CONFIDENCE,
        )  # fmt: skip
        logger.info("capture: %s pages turned, %s levelled, %s asked of Tesseract",
                    len(done.turned), len(done.levelled), done.asked)  # fmt: skip
    out = io.BytesIO()
    # pdfa_backend "internal": Debian's Ghostscript 10.0 corrupts PDFs with text
    # (OCRmyPDF refuses it with skip_text), and the internal backend is faster;
    # the sandwich renderer: Tesseract writes the text layer as a PDF itself
    ocrmypdf.ocr(
        io.BytesIO(pdf), out, language=settings.CAPTURE_OCR_LANGUAGE.split("+"),
        output_type="auto" if settings.CAPTURE_PDFA else "pdf",
        pdfa_backend="internal", jobs=max(jobs, 1), skip_text=True,
        pdf_renderer="sandwich", clean=clean_available(), progress_bar=False,
        optimize=0, max_image_mpixels=settings.MAX_IMAGE_PIXELS / 1_000_000,
        invalidate_digital_signatures=True,  # the signed original is kept as it was
    )  # fmt: skip
    return Searchable(out.getvalue(), texts.count(False))


def read_pages(pdf: bytes) -> list[PageRead]:
    """Every page of `pdf` as read (see iter_pages)."""
    return list(iter_pages(pdf))


def iter_pages(pdf: bytes, *, start: int = 1) -> Iterator[PageRead]:
    """The pages of `pdf` from page `start` on, one at a time (a page's image is
    dropped before the next is rendered, so a 2,000-page fax stays small)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        for index in range(max(start, 1) - 1, len(doc)):
            page = doc[index]
            try:
                yield read_page(page, index + 1)
            except Exception as exc:  # one bad page must not stop the batch
                logger.warning("capture: page %s could not be read: %s", index + 1, exc)
                yield PageRead(number=index + 1, width=0, height=0, dpi=0,
                               flags=["unreadable"])  # fmt: skip
            finally:
                page.close()
    finally:
        doc.close()


def page_dpi(page: pdfium.PdfPage) -> int:
    """The resolution of the scanned image that covers the page (half of it or more),
    or BORN_DIGITAL_DPI for a page drawn as text and vectors (a logo or a barcode
    placed on it does not make it a scan)."""
    width, height = page.get_size()
    best, dpi = 0.0, 0.0
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        try:
            left, bottom, right, top = obj.get_bounds()
            meta = obj.get_metadata()
        except Exception:  # an image pdfium cannot describe adds nothing
            continue
        area = abs(right - left) * abs(top - bottom)
        if area > best:
            best = area
            dpi = min(meta.horizontal_dpi, meta.vertical_dpi) or meta.horizontal_dpi
    if best < 0.5 * width * height or dpi <= 0:
        return BORN_DIGITAL_DPI
    return round(dpi)


def read_page(page: pdfium.PdfPage, number: int) -> PageRead:
    """One page: words from its text layer, the rest from an image of it."""
    dpi = page_dpi(page)
    width_pt, height_pt = page.get_size()
    width, height = round(width_pt * dpi / 72), round(height_pt * dpi / 72)
    words = page_words(page, width, height)
    render = min(dpi, RENDER_DPI)
    image = page.render(scale=render / 72, grayscale=True).to_pil().convert("L")
    codes = barcodes.read_barcodes(image, scale=dpi / render)
    ink = barcodes.ink(image)
    skew = barcodes.skew(image) if words else 0.0
    del image
    blank = barcodes.is_blank(ink, words=len(words), barcodes=len(codes),
                              threshold=settings.CAPTURE_BLANK_INK)  # fmt: skip
    flags = []
    if dpi < LOW_DPI:
        flags.append("low-dpi")
    if abs(skew) > SKEWED:
        flags.append("skewed")
    if not blank and not words and not codes:
        flags.append("unreadable")  # ink but no text: handwriting, a photo, a smudge
    return PageRead(number=number, width=width, height=height, dpi=dpi, words=words,
                    barcodes=codes, ink=round(ink, 5), blank=blank,
                    rotation=page.get_rotation(), skew=skew, flags=flags)  # fmt: skip


def _to_device(
    page: pdfium.PdfPage, width: int, height: int
) -> Callable[[float, float], tuple[float, float]]:
    """An affine map from page units to pixels of a `width`×`height` image of the page
    as displayed (pdfium applies /Rotate), from three points."""
    dx, dy = ctypes.c_int(), ctypes.c_int()

    def point(x: float, y: float) -> tuple[float, float]:
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, width * 64, height * 64, 0, x, y,
                                   ctypes.byref(dx), ctypes.byref(dy))  # fmt: skip
        return dx.value / 64, dy.value / 64

    ox, oy = point(0, 0)
    ax, ay = point(1000, 0)
    bx, by = point(0, 1000)
    xx, xy = (ax - ox) / 1000, (ay - oy) / 1000
    yx, yy = (bx - ox) / 1000, (by - oy) / 1000
    return lambda x, y: (ox + x * xx + y * yx, oy + x * xy + y * yy)


class _Words:
    """Characters gathered into words, and words into numbered lines."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.chars: list[str] = []
        self.box = [0.0, 0.0, 0.0, 0.0]
        self.line = 0
        self.last_y: float | None = None

    def flush(self) -> None:
        if self.chars:
            x0, y0, x1, y1 = self.box
            bbox = (int(x0), int(y0), int(x1 + 0.999), int(y1 + 0.999))
            self.words.append(Word("".join(self.chars), bbox, -1.0, self.line))
            self.chars.clear()

    def new_line(self) -> None:
        self.flush()
        if self.words and self.words[-1].line == self.line:
            self.line += 1
        self.last_y = None

    def add(self, char: str, x0: float, y0: float, x1: float, y1: float) -> None:
        mid = (y0 + y1) / 2
        if (
            self.last_y is not None
            and not self.chars
            and abs(mid - self.last_y) > (y1 - y0)
        ):
            self.new_line()
        self.last_y = mid
        if not self.chars:
            self.box = [x0, y0, x1, y1]
        else:
            b = self.box
            self.box = [min(b[0], x0), min(b[1], y0), max(b[2], x1), max(b[3], y1)]
        self.chars.append(char)


def page_words(page: pdfium.PdfPage, width: int, height: int) -> list[Word]:
    """The text layer's words with their boxes in pixels of a `width`×`height` page
    image, in reading order, each with its line's index."""
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        if count <= 0:
            return []
        to_px = _to_device(page, width, height)
        found = _Words()
        for i in range(count):
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
            if code in _BREAKS:
                found.new_line()
                continue
            if code in _SPACES or code == 0:
                found.flush()
                continue
            left, bottom, right, top = textpage.get_charbox(i)
            ax, ay = to_px(left, top)
            bx, by = to_px(right, bottom)
            found.add(chr(code), min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))
        found.flush()
        return found.words
    finally:
        textpage.close()
