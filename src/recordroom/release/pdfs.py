"""PDF work for release packets: documents as PDF pages, text search, pages redacted by
rendering them to an image, and the stamped assembly of a packet.

Redaction removes content from the file: a page with a redaction is rendered to a
bitmap (pypdfium2), the boxes are painted black in the bitmap (Pillow) and the page
is replaced by that image, so no text, vector or image object of the original page
survives. Assembly (pikepdf/qpdf) places every page, as a form XObject, above a band
in which the page's stamp is printed, so a stamp never covers clinical content.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageSequence
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.letterpdf import font_name
from recordroom.kernel.pdftext import FastCanvas, no_ascii85
from recordroom.kernel.tempfiles import temp_dir, write_private

# A redacted page is rendered at this resolution: readable print quality, ~0.2 MB
# per letter page as JPEG.
REDACT_DPI = 150
# Black boxes reach this far (points) past a found word: ascenders, descenders and
# anti-aliasing of the glyph edges are covered too.
TEXT_PAD = 1.5
# The stamp band at the foot of every packet page (points), under the page's content.
STAMP_BAND = 26.0
STAMP_SIZE = 6.5


@dataclass(frozen=True)
class Box:
    """A rectangle on a page in PDF points, origin at the bottom left of user space."""

    x: float
    y: float
    width: float
    height: float


# --- documents as PDF --------------------------------------------------------------


def to_pdf(data: bytes, media_type: str) -> bytes:
    """The document as PDF pages: PDFs as they are, images one page per frame, text
    laid out on letter pages.

    Raises:
        ValidationFailed: a media type that cannot be released as pages."""
    if media_type == "application/pdf":
        return data
    if media_type.startswith("image/"):
        return _image_pdf(data)
    if media_type == "text/plain":
        return _text_pdf(data.decode("utf-8", errors="replace"))
    raise ValidationFailed(
        f"a {media_type} document cannot be put in a packet; convert it to PDF first"
    )


def _image_pdf(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        frames = []
        for frame in ImageSequence.Iterator(img):
            f = frame.convert("L" if frame.mode in ("1", "L", "LA") else "RGB")
            frames.append(f)
        dpi = img.info.get("dpi")
        # without a resolution, a page is letter width (a scan, not a photo print)
        res = float(dpi[0]) if dpi and dpi[0] > 1 else frames[0].width / 8.5
    buf = io.BytesIO()
    frames[0].save(buf, "PDF", save_all=True, append_images=frames[1:],
                   resolution=res)  # fmt: skip
    return buf.getvalue()


def _text_pdf(text: str, *, width: int = 92, lines_per_page: int = 60) -> bytes:
    lines: list[str] = []
    for raw in text.expandtabs(4).splitlines() or [""]:
        while len(raw) > width:
            lines.append(raw[:width])
            raw = raw[width:]
        lines.append(raw)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    for start in range(0, len(lines), lines_per_page):
        t = c.beginText(54, 740)
        t.setFont(font_name(), 9, 11.5)
        for line in lines[start : start + lines_per_page]:
            t.textLine(line)
        c.drawText(t)
        c.showPage()
    c.save()
    return buf.getvalue()


def page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def page_box(pdf: bytes, page: int) -> Box:
    """The visible box (crop box) of a 1-based page in user space."""
    doc = pdfium.PdfDocument(pdf)
    try:
        left, bottom, right, top = doc[page - 1].get_cropbox()
        return Box(left, bottom, right - left, top - bottom)
    finally:
        doc.close()


# --- text search and redaction -----------------------------------------------------


def find_text(
    pdf: bytes, text: str, pages: Sequence[int] | None = None
) -> dict[int, list[Box]]:
    """Where `text` occurs (any case) in the text layer, by 1-based page: one box per
    line of each occurrence. A scanned page without a text layer finds nothing."""
    doc = pdfium.PdfDocument(pdf)
    try:
        found: dict[int, list[Box]] = {}
        for number in pages or range(1, len(doc) + 1):
            boxes = _search(doc[number - 1], text)
            if boxes:
                found[number] = boxes
        return found
    finally:
        doc.close()


def _search(page: pdfium.PdfPage, text: str) -> list[Box]:
    textpage = page.get_textpage()
    boxes = []
    searcher = textpage.search(text, match_case=False, match_whole_word=False)
    while (hit := searcher.get_next()) is not None:
        start, count = hit
        for i in range(textpage.count_rects(start, count)):
            left, bottom, right, top = textpage.get_rect(i)
            boxes.append(Box(left - TEXT_PAD, bottom - TEXT_PAD,
                             right - left + 2 * TEXT_PAD, top - bottom + 2 * TEXT_PAD))  # fmt: skip
    return boxes


@dataclass
class PageRedaction:
    """What to remove from one page: regions, and texts found at build time."""

    boxes: list[Box] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def redacted_page(
    doc: pdfium.PdfDocument, number: int, redaction: PageRedaction
) -> tuple[bytes, Box, int, int, int, int]:
    """Page `number` (1-based) as a JPEG with the boxes and found texts painted black.

    Rendered in user space (the page's /Rotate set aside and given back to the image
    page), so boxes and text positions map straight to pixels. Returns the JPEG,
    the crop box, the rotation, the pixel size and how many boxes were painted."""
    page = doc[number - 1]
    rotation = page.get_rotation()
    page.set_rotation(0)
    left, bottom, right, top = page.get_cropbox()
    boxes = list(redaction.boxes)
    for text in redaction.texts:
        boxes += _search(page, text)
    scale = REDACT_DPI / 72
    image = page.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    draw = ImageDraw.Draw(image)
    for b in boxes:
        x0 = (b.x - left) * scale
        y0 = (top - (b.y + b.height)) * scale
        x1 = (b.x + b.width - left) * scale
        y1 = (top - b.y) * scale
        draw.rectangle([x0 - 1, y0 - 1, x1 + 1, y1 + 1], fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, optimize=False)
    crop = Box(left, bottom, right - left, top - bottom)
    return out.getvalue(), crop, rotation, image.width, image.height, len(boxes)


def image_page(pdf: pikepdf.Pdf, jpeg: bytes, crop: Box, rotation: int,
               width: int, height: int) -> pikepdf.Page:  # fmt: skip
    """A page of `pdf` that is only the JPEG, filling the crop box of the original."""
    image = pikepdf.Stream(pdf, jpeg)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = width, height, 8
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    ops = f"q {crop.width:.4f} 0 0 {crop.height:.4f} {crop.x:.4f} {crop.y:.4f} cm /Im0 Do Q"
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[crop.x, crop.y, crop.x + crop.width, crop.y + crop.height],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        Contents=pikepdf.Stream(pdf, ops.encode()),
        Rotate=rotation,
    )
    return pikepdf.Page(pdf.make_indirect(page))


# --- assembly ----------------------------------------------------------------------


@dataclass
class Source:
    """A document's pages for the packet: which (1-based, in order) and what to redact."""

    pdf: bytes
    pages: list[int] | None = None  # None: every page
    redactions: dict[int, PageRedaction] = field(default_factory=dict)


def displayed_size(page: pikepdf.Page) -> tuple[float, float]:
    box = page.cropbox
    w, h = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
    rotation = int(page.obj.get("/Rotate", 0)) % 360
    return (h, w) if rotation in (90, 270) else (w, h)


class Assembly:
    """Pages collected in packet order, then merged, stamped and written as one PDF.

    Everything goes through a private temporary directory: the documents are merged
    by qpdf's page job (stream data copied lazily while writing) and the stamping
    works inside that one merged file, so memory stays flat whatever the size of
    the documents; only the finished packet is read back. Use as a context manager.
    """

    def __init__(self) -> None:
        # Under DATA_DIR/tmp (0700), never the system /tmp: these pages are PHI.
        self._tmp = temp_dir("rr-packet-")
        self.dir = Path(self._tmp.name)
        self._redacted = pikepdf.new()  # the image pages of redacted pages
        self._runs: list[tuple[str, int]] = []  # (file, page) in packet order
        self._files = 0
        self.boxes_painted = 0

    def __enter__(self) -> Assembly:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pages(self) -> int:
        return len(self._runs)

    def add(self, source: Source) -> int:
        """Add a document's pages, redacted; returns how many were added."""
        self._files += 1
        path = self.dir / f"d{self._files}.pdf"
        write_private(path, source.pdf)
        if source.pages is None:
            with pikepdf.open(path) as doc:
                numbers: Sequence[int] = range(1, len(doc.pages) + 1)
        else:
            numbers = source.pages
        rendered = None
        for number in numbers:
            redaction = source.redactions.get(number)
            if redaction is None:
                self._runs.append((path.name, number))
                continue
            if rendered is None:
                rendered = pdfium.PdfDocument(str(path))
            jpeg, crop, rot, w, h, painted = redacted_page(rendered, number, redaction)
            self.boxes_painted += painted
            self._redacted.pages.append(
                image_page(self._redacted, jpeg, crop, rot, w, h)
            )
            self._runs.append(("redacted.pdf", len(self._redacted.pages)))
        if rendered is not None:
            rendered.close()
        return len(numbers)

    def _merge(self) -> Path:
        """One PDF of every page in packet order (qpdf --pages)."""
        if len(self._redacted.pages):
            self._redacted.save(self.dir / "redacted.pdf")
        args = ["qpdf", "--empty", "--pages"]
        for name, group in itertools.groupby(self._runs, key=lambda r: r[0]):
            args += [str(self.dir / name), _ranges([n for _, n in group])]
        merged = self.dir / "merged.pdf"
        pikepdf.Job([*args, "--", str(merged)]).run()
        return merged

    def write(self, stamp_lines: Sequence[Sequence[str]]) -> Path:
        """The packet file: each page shrunk into the area above the stamp band, its
        lines printed in the band (one list of lines per page)."""
        if len(stamp_lines) != len(self._runs):
            raise ValueError("one stamp per page")
        packet = self.dir / "packet.pdf"
        with pikepdf.open(self._merge(), access_mode=pikepdf.AccessMode.stream) as doc:
            if any("/Annots" in p.obj for p in doc.pages):
                # form fields and stamps print with the page; links and actions go
                doc.flatten_annotations("all")
            n = len(doc.pages)
            sizes = [displayed_size(p) for p in doc.pages]
            with pikepdf.open(io.BytesIO(_stamp_pages(sizes, stamp_lines))) as stamps:
                for i, (w, h) in enumerate(sizes):
                    doc.pages.append(stamps.pages[i])
                    doc.pages[n + i].add_overlay(doc.pages[i],
                                                 pikepdf.Rectangle(0, STAMP_BAND, w, h))  # fmt: skip
                del doc.pages[0:n]
                doc.save(packet, compress_streams=True,
                         object_stream_mode=pikepdf.ObjectStreamMode.generate)  # fmt: skip
        return packet

    def close(self) -> None:
        self._redacted.close()
        self._tmp.cleanup()


def _ranges(numbers: list[int]) -> str:
    """qpdf's page range text: [1, 2, 3, 5] -> "1-3,5"."""
    parts = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}-{prev}" if prev != start else str(start))
        if n is not None:
            start = prev = n
    return ",".join(parts)


def _stamp_pages(
    sizes: Sequence[tuple[float, float]], lines: Sequence[Sequence[str]]
) -> bytes:
    """One page per packet page, of its size, with only the stamp lines centred in
    the band. Widths are cached by text: the patient's line repeats on every page."""
    buf = io.BytesIO()
    c = FastCanvas(buf, invariant=1)
    c.setTitle("Release of information packet")
    font = font_name()
    fitted: dict[tuple[str, float], tuple[str, float]] = {}
    for (w, h), page_lines in zip(sizes, lines, strict=True):
        c.setPageSize((w, h))
        c.setFont(font, STAMP_SIZE)
        y = STAMP_BAND - 9
        for line in page_lines:
            if (line, w) not in fitted:
                text = _fit(c, line, font, w - 24)
                fitted[line, w] = text, c.stringWidth(text, font, STAMP_SIZE)
            text, width = fitted[line, w]
            c.drawString((w - width) / 2, y, text)
            y -= STAMP_SIZE + 2
        c.showPage()
    with no_ascii85():
        c.save()
    return buf.getvalue()


def _fit(c: canvas.Canvas, text: str, font: str, width: float) -> str:
    if c.stringWidth(text, font, STAMP_SIZE) <= width:
        return text
    while text and c.stringWidth(text + "…", font, STAMP_SIZE) > width:
        text = text[:-1]
    return text + "…"


def split(pdf: Path, ranges: Sequence[tuple[int, int]], into: Path) -> list[Path]:
    """The pages of each 1-based inclusive range as its own PDF file in `into`."""
    out = []
    with pikepdf.open(pdf, access_mode=pikepdf.AccessMode.stream) as doc:
        for n, (first, last) in enumerate(ranges, 1):
            part = pikepdf.new()
            part.pages.extend(doc.pages[first - 1 : last])
            path = into / f"part-{n}.pdf"
            part.save(path, compress_streams=True)
            part.close()
            out.append(path)
    return out
