"""A document's content in MDM OBX segments: text lines (TX, FT, ST) joined, or an
encapsulated file (ED: PDF, TIFF, JPEG, PNG, RTF, HTML, XML) decoded. Other OBX value
types describe, not carry."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from recordroom.records.files import ACCEPTED, sniff

from .parser import Hl7Error, Message, Segment, component, unescape

TEXT_TYPES = {"TX", "FT", "ST"}
# OBX-5.2 type of data (HL7 table 0191), and the MIME names senders put there instead
DATA_TYPES = frozenset({"AP", "IM", "TX", "APPLICATION", "IMAGE", "TEXT"})
# OBX-5.3 data subtype (HL7 table 0291 and the MIME subtypes senders use) -> what
# the document is stored as; `textual` ones may also come as A (ASCII) data.
SUBTYPES: dict[str, tuple[str, str]] = {
    "PDF": ("application/pdf", ".pdf"),
    "TIFF": ("image/tiff", ".tif"),
    "TIF": ("image/tiff", ".tif"),
    "JPEG": ("image/jpeg", ".jpg"),
    "JPG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "RTF": ("text/rtf", ".rtf"),
    "HTML": ("text/html", ".html"),
    "XML": ("text/xml", ".xml"),
    "PLAIN": ("text/plain", ".txt"),
}
TEXTUAL = {"RTF", "HTML", "XML", "PLAIN"}
# OBX-5.4 encoding (HL7 table 0299)
ENCODINGS = {"BASE64", "A", "HEX"}


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
    """ED: source^type^subtype^encoding^data; data split over several OBX is joined.
    Type, subtype and encoding are read ignoring case ("Application^PDF",
    "image^jpeg", "TEXT^RTF"); one Recordroom cannot store is an AE naming it."""
    first = segments[0]
    raw5 = first.raw(5)
    kind = component(raw5, 2, first.enc).upper()
    subtype = component(raw5, 3, first.enc).upper()
    encoding = component(raw5, 4, first.enc).upper()
    if kind and kind not in DATA_TYPES:
        raise Hl7Error(
            f"OBX-5.2 type of data {kind!r} is not one of "
            f"{', '.join(sorted(DATA_TYPES))} (HL7 table 0191)",
            "OBX-5.2",
            "103",
        )
    if subtype and subtype not in SUBTYPES:
        raise Hl7Error(
            f"OBX-5.3 data subtype {subtype!r} is not one Recordroom "
            f"stores ({', '.join(SUBTYPES)}); nothing was filed",
            "OBX-5.3",
            "103",
        )
    if encoding not in ENCODINGS or (encoding == "A" and subtype not in TEXTUAL):
        raise Hl7Error(
            f"OBX-5.4 encoding {encoding or '(empty)'!r} is not supported for "
            f"{subtype or 'data without a subtype'}; send Base64 (or A for RTF, HTML, "
            "XML and plain text)",
            "OBX-5.4",
            "103",
        )
    data = "".join(component(s.raw(5), 5, s.enc) for s in segments)
    if not data.strip():
        raise Hl7Error("OBX-5 encapsulated data (ED) holds no content", "OBX-5", "101")
    payload = _payload(data, encoding)
    if subtype:
        return Content(payload, *SUBTYPES[subtype])
    media = sniff(payload)  # no subtype: what the bytes are (PDF, images, RTF)
    if media is None:
        raise Hl7Error(
            "OBX-5.3 data subtype is empty and the data is not a PDF, PNG, JPEG, "
            "TIFF or RTF file; send the subtype (e.g. PDF, HTML, XML)",
            "OBX-5.3",
            "101",
        )
    return Content(payload, media, ACCEPTED[media][1])


def _payload(data: str, encoding: str) -> bytes:
    if encoding == "A":  # component() decoded its escapes, once
        return data.encode()
    compact = re.sub(r"\s+", "", data)
    try:
        if encoding == "HEX":
            return bytes.fromhex(compact)
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        name = "Base64" if encoding == "BASE64" else "hexadecimal"
        raise Hl7Error(
            f"OBX-5 data is not valid {name}: {exc}", "OBX-5", "102"
        ) from exc
