"""Normalise: the batch as a searchable PDF (PDF/A with a text layer) in the blob
store. An image becomes a PDF first; a PDF whose pages all have text is used as it is."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pikepdf
from django.conf import settings

from recordroom.kernel.blobs import default_store

from .. import ocr
from ..models import CaptureBatch
from .preflight import PDF, Refused


@dataclass(frozen=True)
class Normalised:
    searchable_sha256: str
    pages: int
    ocr_pages: int  # pages Tesseract read; 0 when the file had text throughout


def normalise(batch: CaptureBatch) -> Normalised:
    """Make and keep the batch's searchable copy; sets `batch.searchable_sha256`.

    Raises:
        Refused: OCRmyPDF or the image decoder cannot read the file (the reason).
    """
    import ocrmypdf.exceptions as ocr_errors

    store = default_store()
    data = store.get(batch.sha256)
    try:
        pdf = data if batch.media_type == PDF else ocr.image_to_pdf(data)
        del data
        made = ocr.searchable(pdf, jobs=settings.CAPTURE_OCR_JOBS)
    except ocr_errors.EncryptedPdfError:
        raise Refused(f"{batch.filename!r} is an encrypted PDF: ask for a copy "
                      "without a password") from None  # fmt: skip
    except (ocr_errors.InputFileError, ocr_errors.UnsupportedImageFormatError,
            ocr_errors.DpiError, OSError, ValueError, SyntaxError) as exc:  # fmt: skip
        raise Refused(f"{batch.filename!r} cannot be read for OCR "
                      f"({type(exc).__name__}: {str(exc)[:200]})") from None  # fmt: skip
    except ocr_errors.ExitCodeException as exc:
        raise Refused(f"OCR of {batch.filename!r} failed ({type(exc).__name__}: "
                      f"{str(exc)[:200]})") from None  # fmt: skip
    sha = (
        batch.sha256
        if made.pdf is pdf and batch.media_type == PDF
        else (store.put(made.pdf).sha256)
    )
    with pikepdf.open(io.BytesIO(made.pdf)) as done:
        pages = len(done.pages)
    CaptureBatch.objects.filter(pk=batch.pk).update(searchable_sha256=sha)
    batch.searchable_sha256 = sha
    return Normalised(sha, pages, made.ocr_pages)
