"""Decompression bombs refused at upload: an image, or an image inside a PDF, that
declares more pixels than RECORDROOM_MAX_IMAGE_MEGAPIXELS, a PDF with more pages than
RECORDROOM_MAX_PDF_PAGES or a page larger than the format allows. Only headers and
dictionaries are read: nothing is decompressed to find out."""

from __future__ import annotations

import io
import re
import warnings

import pikepdf
from django.conf import settings
from PIL import Image

from recordroom.kernel.errors import ValidationFailed

# PDF 1.7 (ISO 32000-1, annex C): a page is at most 14,400 units on a side.
MAX_PAGE_UNITS = 14_400


def configure_pillow() -> None:
    """Pillow refuses (DecompressionBombError) past twice our limit everywhere it
    opens an image, rendering included, not only past its own default."""
    Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS


def refuse_bombs(data: bytes, *, name: str, media_type: str) -> None:
    """Raise ValidationFailed naming what makes `data` unsafe to open; else None."""
    if media_type.startswith("image/"):
        _check_image(data, name)
    elif media_type == "application/pdf":
        _check_pdf(data, name)


def _refuse(name: str, problem: str) -> ValidationFailed:
    return ValidationFailed(
        f"file {name!r}: {problem}; it is refused as a possible decompression bomb. "
        "Scan or export it again at a normal resolution, or split it.",
        field="file",
    )


def _pixels(name: str, what: str, width: int, height: int) -> None:
    limit = settings.MAX_IMAGE_PIXELS
    if width * height > limit:
        raise _refuse(
            name,
            f"{what} is {width:,} × {height:,} pixels "
            f"({width * height / 1e6:,.0f} megapixels); the limit is "
            f"{limit / 1e6:,.0f} megapixels",
        )


def _check_image(data: bytes, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as img:
                frames = getattr(img, "n_frames", 1)
                if frames > settings.MAX_PDF_PAGES:
                    raise _refuse(name, f"it has {frames:,} pages; the limit is "
                                  f"{settings.MAX_PDF_PAGES:,}")  # fmt: skip
                for index in range(frames):
                    if index:
                        img.seek(index)
                    what = f"page {index + 1}" if frames > 1 else "the image"
                    _pixels(name, what, *img.size)
        except Image.DecompressionBombError as exc:
            # Pillow's own check (at twice the limit) fired while reading the header.
            found = re.search(r"\((\d+) pixels\)", str(exc))
            pixels = int(found.group(1)) if found else 0
            raise _refuse(
                name,
                f"the image is {pixels:,} pixels ({pixels / 1e6:,.0f} megapixels); "
                f"the limit is {settings.MAX_IMAGE_PIXELS / 1e6:,.0f} megapixels",
            ) from None
        except (OSError, ValueError, SyntaxError):
            return  # damaged: the steps that read the image name the damage


def _check_pdf(data: bytes, name: str) -> None:
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return  # an encrypted PDF is checked by the steps that need to open it
    except pikepdf.PdfError:
        return  # a damaged PDF: left to the same steps, which name the damage
    with pdf:
        pages = len(pdf.pages)
        if pages > settings.MAX_PDF_PAGES:
            raise _refuse(name, f"it has {pages:,} pages; the limit is "
                          f"{settings.MAX_PDF_PAGES:,}")  # fmt: skip
        for number, page in enumerate(pdf.pages, start=1):
            _page_size(name, number, page)
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                width, height = _int(obj.get("/Width")), _int(obj.get("/Height"))
                _pixels(name, "an image inside it", width, height)


def _page_size(name: str, number: int, page: pikepdf.Page) -> None:
    try:
        box = [float(v) for v in page.mediabox]
        unit = float(page.obj.get("/UserUnit", 1))
    except (TypeError, ValueError, pikepdf.PdfError):
        return
    width, height = abs(box[2] - box[0]) * unit, abs(box[3] - box[1]) * unit
    if max(width, height) > MAX_PAGE_UNITS:
        raise _refuse(
            name,
            f"page {number} is {width / 72:,.0f} × {height / 72:,.0f} inches; "
            f"a PDF page is at most {MAX_PAGE_UNITS // 72} inches on a side",
        )


def _int(value: object) -> int:
    try:
        return max(int(value), 0)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
