"""R-AMD-6 (d)(5): what goes with every later disclosure of disputed information.
Registered in records.disclosure_materials (apps.py); the release desk reads that
registry when it builds a packet, so neither app imports the other."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recordroom.kernel.letterpdf import render
from recordroom.records.disclosure_materials import Material

from . import letters
from .models import AmendmentEntry, EntryOutcome, Status


class DisputeMaterials:
    """For denied amendments whose patient filed a statement of disagreement or
    asked for it: the request, the denial, the statement and the rebuttal."""

    name = "amendments"

    def materials(self, *, document_ids: Iterable[Any]) -> list[Material]:
        entries = (AmendmentEntry.objects
                   .filter(document_id__in=list(document_ids),
                           outcome=EntryOutcome.DENIED,
                           request__status__in=(Status.DENIED, Status.PARTIAL))
                   .select_related("request__patient", "request__facility")
                   .order_by("request__received_on", "request__number"))  # fmt: skip
        by_request: dict[Any, list[str]] = {}
        requests = {}
        for e in entries:
            by_request.setdefault(e.request_id, []).append(str(e.document_id))
            requests[e.request_id] = e.request
        out = []
        for pk, docs in by_request.items():
            req = requests[pk]
            if not req.disputed:
                continue
            out.append(Material(
                title=f"Amendment request {req.number} (disputed)",
                pdf=render(letters.disclosure_summary(req)),
                documents=tuple(docs), kind="amendment-dispute", reference=req.number,
                detail={"request": str(req.pk),
                        "statement": bool(req.disagreement),
                        "rebuttal": bool(req.rebuttal)}))  # fmt: skip
        return out
