"""Real scans for the capture tests: PDFs drawn with reportlab, raster pages with
Pillow (as a scanner or a fax makes them), cover sheets with zxing-cpp's writer."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from recordroom.capture import cover

LINES = (
    "DISCHARGE SUMMARY",
    "Patient: DOE, JANE   DOB 01/02/1970",
    "MRN 004512   Account V900123",
    "Date of service 11/30/2026",
)


def text_pdf(
    *pages: tuple[str, ...] | None, barcodes: dict[int, Image.Image] | None = None
) -> bytes:
    """A born-digital PDF: each page's lines (None: a blank page); `barcodes` puts an
    image (a cover sheet's code) on the page of that index."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    for index, lines in enumerate(pages):
        if barcodes and index in barcodes:
            c.drawImage(ImageReader(barcodes[index]), 72, 500, 216, 216)
        for n, line in enumerate(lines or ()):
            c.setFont("Helvetica", 14)
            c.drawString(72, 720 - n * 22, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def raster(
    pdf: bytes, *, dpi: int = 200, mode: str = "L", turn: float = 0
) -> list[Image.Image]:
    """`pdf`'s pages as a scanner sees them (no text layer left)."""
    doc = pdfium.PdfDocument(pdf)
    pages = []
    for page in doc:
        img = page.render(scale=dpi / 72).to_pil().convert("L")
        if turn:
            img = img.rotate(turn, expand=True, fillcolor=255)
        pages.append(img.convert(mode) if mode != "L" else img)
    doc.close()
    return pages


def image_pdf(images: list[Image.Image], *, dpi: int = 200) -> bytes:
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()


def tiff(
    images: list[Image.Image], *, dpi: tuple[int, int] = (204, 196), g4: bool = True
) -> bytes:
    out = io.BytesIO()
    frames = [i.convert("1") for i in images] if g4 else images
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:],
                   compression="group4" if g4 else "tiff_lzw", dpi=dpi)  # fmt: skip
    return out.getvalue()


def png(image: Image.Image, *, dpi: int = 200) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


def jpeg(image: Image.Image, *, dpi: int = 200) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", dpi=(dpi, dpi), quality=90)
    return out.getvalue()


def qr(text: str, *, size: int = 300) -> Image.Image:
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    img = Image.fromarray(zxingcpp.write_barcode_to_image(code, scale=4)).convert("L")
    return img.resize((size, size), Image.Resampling.NEAREST)


def code128(text: str) -> Image.Image:
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    return Image.fromarray(zxingcpp.write_barcode_to_image(code, scale=3)).convert("L")


def cover_page(c: cover.Cover) -> Image.Image:
    return qr(cover.encode(c))
