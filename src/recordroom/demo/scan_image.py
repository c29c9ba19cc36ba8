"""What a scanner or fax machine does to a printed page: rasterise (pypdfium2), add
stamps, scribbles, barcodes, speckle, skew and turns, bleed-through on the back,
bilevel or grey output, fax resolution; and write the pages as PDF, multi-page TIFF
(CCITT G4), PNG or JPEG. Pure image work: no database."""

from __future__ import annotations

import io
import itertools
import math
import random
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageDraw, ImageFont, TiffImagePlugin

INK_LEVEL = 128  # a pixel darker than this is ink (what tests and blank checks count)
_THRESHOLD = [0 if v < 170 else 255 for v in range(256)]
_FORMATS = {
    "qrcode": zxingcpp.BarcodeFormat.QRCode,
    "datamatrix": zxingcpp.BarcodeFormat.DataMatrix,
    "code128": zxingcpp.BarcodeFormat.Code128,
}


def rasterise(pdf: bytes, dpi: int) -> list[Image.Image]:
    """Every page of `pdf` as a greyscale image at `dpi`."""
    doc = pdfium.PdfDocument(pdf)
    try:
        out = []
        for n in range(len(doc)):
            page = doc[n]
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            out.append(bitmap.to_pil().convert("L"))
            page.close()
        return out
    finally:
        doc.close()


def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, px))


def barcode(text: str, kind: str, module_px: int) -> Image.Image:
    """A barcode drawn by zxing-cpp's writer, `module_px` pixels per module."""
    code = zxingcpp.create_barcode(text, _FORMATS[kind])
    img = zxingcpp.write_barcode_to_image(
        code, scale=module_px, add_hrt=kind == "code128", add_quiet_zones=True
    )
    out = Image.fromarray(np.asarray(img, dtype=np.uint8), "L")
    if kind == "code128":  # a linear code prints tall
        out = out.resize(
            (out.width, max(out.height, module_px * 40)), Image.Resampling.NEAREST
        )
    return out


def paste_barcode(
    page: Image.Image, code: Image.Image, *, right: int, top: int
) -> None:
    page.paste(code, (page.width - right - code.width, top))


def stamp(page: Image.Image, lines: list[str], rng: random.Random, dpi: int,
          *, at: tuple[float, float]) -> None:  # fmt: skip
    """An ink stamp: boxed capitals, slightly turned, at (x, y) in inches."""
    size = int(dpi * 0.16)
    font = _font(size)
    width = int(max(font.getlength(line) for line in lines)) + size * 2  # type: ignore[union-attr]
    height = len(lines) * int(size * 1.35) + size
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    draw.rectangle((2, 2, width - 3, height - 3), outline=40, width=max(2, dpi // 60))
    for n, line in enumerate(lines):
        w = font.getlength(line)  # type: ignore[union-attr]
        draw.text(((width - w) / 2, size // 2 + n * int(size * 1.35)), line, font=font,
                  fill=50)  # fmt: skip
    img = img.rotate(rng.uniform(-12, 12), expand=True, fillcolor=255)
    x, y = int(at[0] * dpi), int(at[1] * dpi)
    page.paste(Image.new("L", img.size, 40), (x, y), Image.eval(img, lambda v: 255 - v))


def scribble(page: Image.Image, rng: random.Random, dpi: int,
             *, box: tuple[float, float, float, float]) -> None:  # fmt: skip
    """A handwriting-like stroke (a signature, initials, a margin note) inside `box`
    (inches: left, top, width, height)."""
    left, top, width, height = (int(v * dpi) for v in box)
    draw = ImageDraw.Draw(page)
    x, y = left, top + height // 2
    points = [(x, y)]
    for _ in range(rng.randrange(14, 30)):
        x += rng.randrange(dpi // 40 + 1, dpi // 8 + 2)
        y = min(
            top + height, max(top, y + rng.randrange(-height // 2, height // 2 + 1))
        )
        points.append((min(x, left + width), y))
    draw.line(points, fill=30, width=max(2, dpi // 100), joint="curve")


def note(page: Image.Image, text: str, rng: random.Random, dpi: int,
         *, at: tuple[float, float]) -> None:  # fmt: skip
    """A short hand-printed note (uneven, turned) with an underline scribble."""
    font = _font(int(dpi * 0.17))
    img = Image.new("L", (int(font.getlength(text)) + 20, int(dpi * 0.3)), 255)  # type: ignore[union-attr]
    ImageDraw.Draw(img).text((10, 4), text, font=font, fill=35)
    img = img.rotate(rng.uniform(-4, 4), expand=True, fillcolor=255)
    x, y = int(at[0] * dpi), int(at[1] * dpi)
    page.paste(Image.new("L", img.size, 35), (x, y), Image.eval(img, lambda v: 255 - v))
    scribble(page, rng, dpi, box=(at[0], at[1] + 0.32, min(3.0, img.width / dpi), 0.08))


def speckle(page: Image.Image, rng: random.Random, density: float) -> Image.Image:
    """Dust and toner specks: dark 1-2 pixel dots, `density` of the page's pixels."""
    arr = np.array(page)
    gen = np.random.default_rng(rng.randrange(2**32))
    n = int(arr.size * density)
    ys = gen.integers(0, arr.shape[0] - 1, n)
    xs = gen.integers(0, arr.shape[1] - 1, n)
    arr[ys, xs] = 20
    half = n // 2
    arr[ys[:half] + 1, xs[:half]] = 20
    return Image.fromarray(arr, "L")


def bleed_through(front: Image.Image, rng: random.Random) -> Image.Image:
    """The back of a sheet whose front shows through: the front mirrored, faint (no
    pixel darker than light grey, so the page is still blank by ink)."""
    arr = np.asarray(front.transpose(Image.Transpose.FLIP_LEFT_RIGHT), dtype=np.uint16)
    strength = rng.randrange(13, 23)  # out of 256: 5 to 9 percent
    faint = 255 - (((255 - arr) * strength) >> 8)
    return Image.fromarray(faint.astype(np.uint8), "L")


def blank(width: int, height: int) -> Image.Image:
    return Image.new("L", (width, height), 255)


def skew(page: Image.Image, angle: float, *, smooth: bool) -> Image.Image:
    """Turned a little, as a sheet fed askew (white comes in at the corners); a page
    going to black and white needs no smoothing (and takes a fifth of the time)."""
    if not angle:
        return page
    resample = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    return page.rotate(angle, resample=resample, fillcolor=255)


def edge(page: Image.Image, rng: random.Random) -> None:
    """A dark strip along one side where the scanner lid did not cover."""
    draw = ImageDraw.Draw(page)
    w = rng.randrange(4, 14)
    draw.rectangle((page.width - w, 0, page.width - 1, page.height - 1), fill=25)


def finish(page: Image.Image, *, bilevel: bool, vertical: float = 1.0,
           turn: int = 0) -> Image.Image:  # fmt: skip
    """The scanner's output: squashed to fax line resolution (`vertical` < 1),
    thresholded to black and white, turned by `turn` degrees counter-clockwise."""
    if vertical != 1.0:
        page = page.resize(
            (page.width, round(page.height * vertical)), Image.Resampling.BOX
        )
    if bilevel:
        page = page.point(_THRESHOLD).convert("1", dither=Image.Dither.NONE)
    if turn == 90:
        page = page.transpose(Image.Transpose.ROTATE_90)
    elif turn == 180:
        page = page.transpose(Image.Transpose.ROTATE_180)
    elif turn == 270:
        page = page.transpose(Image.Transpose.ROTATE_270)
    return page


def ink(page: Image.Image) -> float:
    """The share of dark pixels (0..1)."""
    arr = np.asarray(page.convert("L"))
    return float((arr < INK_LEVEL).mean())


# --- writers ---------------------------------------------------------------------------


def g4(page: Image.Image) -> bytes:
    """The page's CCITT Group 4 data (one strip, what PDF's CCITTFaxDecode reads)."""
    buf = io.BytesIO()
    page.save(buf, "TIFF", compression="group4",
              strip_size=math.ceil(page.width / 8) * page.height)  # fmt: skip
    return buf.getvalue()[8:]  # Pillow writes the strip right after the 8-byte header


def _pdf_image(page: Image.Image) -> bytes:
    w, h = page.size
    if page.mode == "1":
        data = g4(page)
        head = (f"/BitsPerComponent 1 /Filter [/CCITTFaxDecode] /DecodeParms "
                f"[<< /K -1 /BlackIs1 true /Columns {w} /Rows {h} >>]")  # fmt: skip
    else:
        buf = io.BytesIO()
        page.convert("L").save(buf, "JPEG", quality=80)
        data = buf.getvalue()
        head = "/BitsPerComponent 8 /Filter /DCTDecode"
    return (f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace "
            f"/DeviceGray {head} /Length {len(data)} >>\nstream\n").encode() + data + \
        b"\nendstream"  # fmt: skip


def write_pdf(
    images: Iterable[Image.Image], path: Path, dpi: tuple[int, int],
    *, dpis: Iterable[tuple[int, int]] | None = None,
) -> int:  # fmt: skip
    """A PDF of one image per page, written page by page (bounded memory, the same
    bytes for the same pages: no dates); `dpis` gives each page its own resolution."""
    offsets: dict[int, int] = {}
    kids: list[int] = []
    with path.open("wb") as fh:
        fh.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

        def obj(n: int, body: bytes) -> None:
            offsets[n] = fh.tell()
            fh.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")

        next_id = 4
        for page, page_dpi in zip(images, dpis or itertools.repeat(dpi), strict=False):
            page_id, content_id, image_id = next_id, next_id + 1, next_id + 2
            next_id += 3
            w, h = page.width * 72 / page_dpi[0], page.height * 72 / page_dpi[1]
            draw = f"q {w:.2f} 0 0 {h:.2f} 0 0 cm /Im0 Do Q".encode()
            obj(image_id, _pdf_image(page))
            obj(content_id, f"<< /Length {len(draw)} >>\nstream\n".encode() + draw
                + b"\nendstream")  # fmt: skip
            obj(page_id, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.2f} {h:.2f}] "
                          f"/Resources << /XObject << /Im0 {image_id} 0 R >> >> "
                          f"/Contents {content_id} 0 R >>").encode())  # fmt: skip
            kids.append(page_id)
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        refs = " ".join(f"{k} 0 R" for k in kids)
        obj(2, f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>".encode())
        obj(3, b"<< /Producer (Recordroom demo scanner) >>")
        xref = fh.tell()
        size = next_id
        fh.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
        for n in range(1, size):
            fh.write(f"{offsets.get(n, 0):010d} 00000 n \n".encode())
        fh.write(f"trailer\n<< /Size {size} /Root 1 0 R /Info 3 0 R >>\n"
                 f"startxref\n{xref}\n%%EOF\n".encode())  # fmt: skip
    return len(kids)


def write_tiff(images: Iterable[Image.Image], path: Path, dpi: tuple[int, int]) -> int:
    """A multi-page CCITT G4 TIFF, written page by page (bounded memory)."""
    count = 0
    with path.open("w+b") as fh, TiffImagePlugin.AppendingTiffWriter(fh, True) as tf:
        for page in images:
            page = page.convert("1")
            page.encoderinfo = {"compression": "group4", "dpi": dpi}
            page.encoderconfig = ()
            TiffImagePlugin._save(page, tf, str(path))
            tf.newFrame()
            count += 1
    return count


def write(images: Iterable[Image.Image], path: Path, *, kind: str,
          dpi: tuple[int, int]) -> int:  # fmt: skip
    """Write the pages; returns how many. `kind`: pdf, tiff (CCITT G4), png, jpeg
    (the last two hold one page)."""
    if kind == "pdf":
        return write_pdf(images, path, dpi)
    if kind == "tiff":
        return write_tiff(images, path, dpi)
    pages = list(images)
    if len(pages) != 1:
        raise ValueError(f"a {kind} file holds one page, not {len(pages)}")
    if kind == "png":
        pages[0].save(path, "PNG", dpi=dpi)
    elif kind == "jpeg":
        pages[0].convert("L").save(path, "JPEG", dpi=dpi, quality=82)
    else:
        raise ValueError(f"unknown output kind {kind!r}")
    return 1
