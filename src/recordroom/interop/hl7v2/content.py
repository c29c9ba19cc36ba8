"""A document's content in MDM OBX segments: text lines (TX, FT, ST) joined, or an
encapsulated file (ED, Base64) decoded. Other OBX value types describe, not carry."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from .parser import Hl7Error, Message, Segment, component, unescape

TEXT_TYPES = {"TX", "FT", "ST"}
_MEDIA = {
    ("application", "pdf"): "application/pdf",
    ("image", "png"): "image/png",
    ("image", "jpeg"): "image/jpeg",
    ("image", "jpg"): "image/jpeg",
    ("image", "tiff"): "image/tiff",
    ("text", "plain"): "text/plain",
    ("text", "rtf"): "text/rtf",
}


@dataclass(frozen=True)
class Content:
    data: bytes
    media_type: str
    extension: str


def document_content(msg: Message) -> Content | None:
    """The content of the OBX segments, or None when they carry none (notification)."""
    obx = [s for s in msg.segments if s.name == "OBX"]
    files = [s for s in obx if s.comp(2).upper() == "ED"]
    if files:
        return _encapsulated(files)
    lines: list[str] = []
    for seg in obx:
        if seg.comp(2).upper() in TEXT_TYPES:
            # FT formatting (\.br\ …) is decoded with the other escapes
            lines += [unescape(rep, seg.enc) for rep in seg.reps(5)] or [""]
    if not lines:
        return None
    return Content(("\n".join(lines).rstrip() + "\n").encode(), "text/plain", ".txt")


def _encapsulated(segments: list[Segment]) -> Content:
    """ED: source^type^subtype^encoding^data; data split over several OBX is joined."""
    first = segments[0]
    raw5 = first.raw(5)
    kind = component(raw5, 2, first.enc).lower()
    subtype = component(raw5, 3, first.enc).lower()
    encoding = component(raw5, 4, first.enc).upper()
    if encoding not in {"BASE64", "A"}:
        raise Hl7Error(
            f"OBX-5 encoding {encoding or '(empty)'!r} is not supported; send Base64 "
            "(or A for ASCII text)",
            "OBX-5",
            "103",
        )
    data = "".join(component(s.raw(5), 5, s.enc) for s in segments)
    if not data.strip():
        raise Hl7Error("OBX-5 encapsulated data (ED) holds no content", "OBX-5", "101")
    if encoding == "A":  # component() decoded its escapes, once
        payload = data.encode()
    else:
        try:
            payload = base64.b64decode(re.sub(r"\s+", "", data), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Hl7Error(
                f"OBX-5 data is not valid Base64: {exc}", "OBX-5", "102"
            ) from exc
    media = _MEDIA.get((kind, subtype), f"{kind}/{subtype}" if kind else "")
    ext = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg",
           "image/tiff": ".tif"}.get(media, ".txt")  # fmt: skip
    return Content(payload, media, ext)
