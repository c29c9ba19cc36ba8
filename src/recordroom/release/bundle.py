"""The electronic copy of a release (R-ACC-4): a zip with a FHIR R4 Bundle (the
patient and a DocumentReference per released document, each pointing at its PDF in
the zip) and the PDFs, the whole stamped packet among them. Plain dicts: the FHIR
mapping in interop sits above this layer."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed: the same packet gives the same zip


@dataclass(frozen=True)
class Entry:
    """A released document: its metadata and its stamped pages as PDF."""

    document_id: str
    type_system: str
    type_code: str
    type_display: str
    title: str
    status: str
    service_start: datetime
    service_end: datetime | None
    labels: Sequence[str]
    filename: str
    pdf: Path  # the document's stamped pages


def _patient(patient: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Patient", **patient}


def _reference(entry: Entry, patient_id: str) -> dict[str, Any]:
    data = entry.pdf.read_bytes()
    period: dict[str, str] = {"start": entry.service_start.isoformat()}
    if entry.service_end:
        period["end"] = entry.service_end.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": entry.document_id,
        "status": "current",
        "docStatus": "amended" if entry.status in ("amended", "corrected") else "final",
        "type": {"coding": [{"system": entry.type_system, "code": entry.type_code,
                             "display": entry.type_display}], "text": entry.type_display},  # fmt: skip
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": entry.service_start.isoformat(),
        "description": entry.title or entry.type_display,
        "content": [{"attachment": {
            "contentType": "application/pdf",
            "url": entry.filename,
            "size": len(data),
            "hash": base64.b64encode(
                hashlib.sha1(data, usedforsecurity=False).digest()).decode(),
            "title": entry.title or entry.type_display,
            "creation": entry.service_start.isoformat(),
        }}],
        "context": {"period": period},
    }  # fmt: skip
    if entry.labels:
        resource["securityLabel"] = [{"coding": [{"system": ACT_CODE, "code": code}]}
                                     for code in entry.labels]  # fmt: skip
    return resource


def bundle(patient: dict[str, Any], entries: Sequence[Entry], *, bundle_id: str,
           timestamp: datetime) -> dict[str, Any]:  # fmt: skip
    """A collection Bundle: the patient first, then one DocumentReference each."""
    pid = patient["id"]
    resources = [_patient(patient), *(_reference(e, pid) for e in entries)]
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "collection",
        "timestamp": timestamp.isoformat(),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def electronic_copy(packet_pdf: Path, bundle_json: dict[str, Any],
                    entries: Sequence[Entry], *, number: str, out: Path) -> Path:  # fmt: skip
    """The zip, written to `out`: bundle.json, the whole packet and each document's
    PDF (copied from their files, never all in memory)."""
    with zipfile.ZipFile(out, "w") as zf:

        def put(name: str, source: Path | bytes) -> None:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            if isinstance(source, bytes):
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, source)
                return
            with source.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)

        put("bundle.json", json.dumps(bundle_json, indent=1).encode())
        put(f"{number}.pdf", packet_pdf)
        for e in entries:
            put(e.filename, e.pdf)
    return out
