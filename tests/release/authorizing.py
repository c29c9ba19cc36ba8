"""Building authorizations, release items and PDF text for release tests."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from recordroom.release.authorizations import checklist, record_authorization
from recordroom.release.models import ReleaseItem
from tests import factories
from tests.factories import facility_today


def elements(kind: str, missing=()) -> dict[str, bool]:
    """Every element of the kind's checklist present, except `missing`."""
    return {e.code: e.code not in missing for e in checklist(kind)}


def authorize(actor, req, kind="hipaa", missing=(), **fields):
    """A form attached to the request, complete (signed a week ago, expiring in a
    year) unless told otherwise."""
    base = dict(
        recipient=req.requester_organization or req.requester_name,
        purpose="legal review", description="records of the 2025 admission",
        signed_on=facility_today() - timedelta(days=7), signed_by="Jose Nunez",
        expires_on=facility_today() + timedelta(days=365),
    )  # fmt: skip
    base.update(fields)
    return record_authorization(actor=actor, patient=req.patient, request=req,
                                kind=kind, elements=elements(kind, missing), **base)  # fmt: skip


def item(req, labels=(), included=True, position=0):
    """A real filed document with these labels, considered for the request."""
    doc = factories.document(patient=req.patient, facility=req.facility,
                             sensitivity=list(labels), text=f"Note {position}")  # fmt: skip
    return ReleaseItem.objects.create(
        request=req, document=doc, version=doc.versions.get(), included=included,
        labels=list(doc.sensitivity), pages=1, position=position)  # fmt: skip


def pdf_text(data: bytes) -> str:
    """The text of every page, whitespace collapsed (wrapped lines rejoined)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
