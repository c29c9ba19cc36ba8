"""What a Recordroom cover sheet or separator page carries in its barcode.

A cover sheet starts a new document and says whose it is: `RRC1|p=<patient id>|
e=<encounter id>|t=<document type code>|n=<pages after the cover>|f=<facility code>`
(QR or DataMatrix; any part but `p` may be empty). A separator sheet only starts a new
document: Code 128 `RRSEP`, or a PATCH-T sheet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

PREFIX = "RRC1"
SEPARATOR = "RRSEP"


@dataclass(frozen=True)
class Cover:
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None = None
    doc_type: str = ""
    pages: int | None = None
    facility: str = ""


def encode(cover: Cover) -> str:
    parts = [
        PREFIX,
        f"p={cover.patient_id}",
        f"e={cover.encounter_id or ''}",
        f"t={cover.doc_type}",
        f"n={'' if cover.pages is None else cover.pages}",
        f"f={cover.facility}",
    ]
    return "|".join(parts)


def decode(text: str) -> Cover | None:
    """The cover a barcode's text names, or None when it is not one of ours (or is
    damaged: a cover that cannot be read whole names nobody)."""
    parts = text.strip().split("|")
    if not parts or parts[0] != PREFIX:
        return None
    fields: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if not sep or key in fields:
            return None
        fields[key] = value
    try:
        patient = uuid.UUID(fields["p"])
        encounter = uuid.UUID(fields["e"]) if fields.get("e") else None
        pages = int(fields["n"]) if fields.get("n") else None
    except (KeyError, ValueError):
        return None
    if pages is not None and not 0 <= pages <= 10_000:
        return None
    return Cover(
        patient_id=patient,
        encounter_id=encounter,
        doc_type=fields.get("t", "")[:64],
        pages=pages,
        facility=fields.get("f", "")[:20],
    )


def is_separator(kind: str, text: str) -> bool:
    return text.strip() == SEPARATOR or kind == "patch-t"
