"""Checks on incoming document files: name, size, and that the bytes are what they claim."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from recordroom.kernel.errors import TooLarge, ValidationFailed

from .bombs import refuse_bombs

# media type -> (magic prefixes, extension)
ACCEPTED: dict[str, tuple[tuple[bytes, ...], str]] = {
    "application/pdf": ((b"%PDF-",), ".pdf"),
    "image/png": ((b"\x89PNG\r\n\x1a\n",), ".png"),
    "image/jpeg": ((b"\xff\xd8\xff",), ".jpg"),
    "image/tiff": ((b"II*\x00", b"MM\x00*"), ".tif"),
    "text/rtf": ((b"{\\rtf",), ".rtf"),
    "text/plain": ((), ".txt"),
    "text/html": ((), ".html"),
    "text/xml": ((), ".xml"),
}
# Text kept only when labelled so (nothing in their bytes says what they are).
LABELLED_TEXT = {"text/plain", "text/html", "text/xml"}
# Served only as a download in a sandbox: a browser would run what they hold.
ACTIVE = {"text/html", "text/xml"}
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    filename: str
    media_type: str


def sniff(data: bytes) -> str | None:
    for media_type, (magics, _) in ACCEPTED.items():
        if any(data.startswith(m) for m in magics):
            return media_type
    return None


def check_file(data: bytes, *, filename: str, media_type: str = "") -> CheckedFile:
    """Refuse empty, oversized, mislabelled or unsafe-named files, naming the problem."""
    name = (filename or "").strip()
    if not name:
        raise ValidationFailed("the file needs a name", field="filename")
    if _BAD_NAME.search(name) or name in {".", ".."} or name.startswith(".."):
        raise ValidationFailed(
            f"file name {name!r} contains a path or control characters; send the bare "
            "file name (e.g. 'discharge-summary.pdf')",
            field="filename",
        )
    if len(name) > 200:
        raise ValidationFailed(
            f"file name is {len(name)} characters; at most 200", field="filename"
        )
    if not data:
        raise ValidationFailed(f"file {name!r} is empty", field="file")
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise TooLarge(
            f"file {name!r} is {len(data) / 1048576:.1f} MB; the limit is "
            f"{settings.MAX_UPLOAD_BYTES // 1048576} MB (set by the administrator)",
            field="file",
        )
    actual = sniff(data)
    if actual is None:
        if media_type in LABELLED_TEXT or (
            not media_type and name.lower().endswith(".txt")
        ):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationFailed(
                    f"file {name!r} is labelled text but is not UTF-8 text",
                    field="file",
                ) from None
            return CheckedFile(data, name, media_type or "text/plain")
        raise ValidationFailed(
            f"file {name!r} is not a PDF, PNG, JPEG, TIFF or UTF-8 text file "
            f"(it starts with the bytes {data[:8].hex(' ').upper()})",
            field="file",
        )
    if media_type and media_type != actual:
        raise ValidationFailed(
            f"file {name!r} is labelled {media_type} but its content is {actual}",
            field="media_type",
        )
    refuse_bombs(data, name=name, media_type=actual)
    return CheckedFile(data, name, actual)
