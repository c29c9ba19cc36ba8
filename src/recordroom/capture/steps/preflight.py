"""Preflight: is this file a scan we can read? Format by content (not by name), page
count, and everything refused before any page is decoded: empty files, encrypted or
damaged PDFs, decompression bombs, oversized images."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath

import pikepdf
from django.conf import settings
from PIL import Image

from recordroom.kernel.errors import ValidationFailed
from recordroom.records.bombs import refuse_bombs

PDF, TIFF, PNG, JPEG = "application/pdf", "image/tiff", "image/png", "image/jpeg"
ACCEPTED = (PDF, TIFF, PNG, JPEG)
TAKES = "capture takes PDF, TIFF, PNG or JPEG"


class Refused(Exception):
    """A file the pipeline will not read, with the reason an indexer is shown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:500]


@dataclass(frozen=True)
class Preflight:
    media_type: str
    pages: int


def sniff(data: bytes) -> str:
    """The media type the bytes are (by their magic number), or ''."""
    head = data[:1024]
    if head.lstrip(b"\x00\t\n\r ").startswith(b"%PDF-"):
        return PDF
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    return ""


def preflight(data: bytes, *, filename: str) -> Preflight:
    """Check `data` before anything decodes it.

    Raises:
        Refused: with the reason (what was wrong, with the value, and what to do).
    """
    if not data:
        raise Refused(f"{filename!r} is empty (0 bytes): scan or send it again")
    media_type = sniff(data)
    if not media_type:
        suffix = PurePath(filename).suffix.lower()
        what = f"a {suffix}" if suffix else f"{filename!r}"
        raise Refused(f"{what} is not a scan: {TAKES}")
    try:
        refuse_bombs(data, name=filename, media_type=media_type)
    except ValidationFailed as exc:
        raise Refused(exc.message) from None
    if media_type == PDF:
        pages = _pdf_pages(data, filename)
    else:
        pages = _image_pages(data, filename, media_type)
    return Preflight(media_type, pages)


def _pdf_pages(data: bytes, filename: str) -> int:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            pages = len(pdf.pages)
    except pikepdf.PasswordError:
        raise Refused(
            f"{filename!r} is an encrypted PDF (it needs a password): ask the sender "
            "for a copy without a password, or print and scan it"
        ) from None
    except (pikepdf.PdfError, ValueError, RecursionError) as exc:
        raise Refused(
            f"{filename!r} is a damaged PDF that cannot be opened ({str(exc)[:160]}): "
            "scan or export it again"
        ) from None
    if pages == 0:
        raise Refused(f"{filename!r} is a PDF without pages: scan or export it again")
    return pages


def _image_pages(data: bytes, filename: str, media_type: str) -> int:
    kind = media_type.split("/")[1].upper()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                frames = int(getattr(img, "n_frames", 1))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise Refused(
            f"{filename!r} is a damaged {kind} image that cannot be read "
            f"({str(exc)[:160]}): scan or export it again"
        ) from None
    limit = settings.CAPTURE_MAX_IMAGE_BYTES
    if len(data) / max(frames, 1) > limit:
        raise Refused(
            f"{filename!r} is {len(data) / 1048576:,.1f} MB for {frames:,} "
            f"page{'s' if frames != 1 else ''}; an image is accepted up to "
            f"{limit / 1048576:,.1f} MB a page: scan it again at 300 dpi, in grey or "
            "black and white"
        )
    return frames
