"""The chart (demographics with history, encounters, documents) and its access log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from recordroom.accounts.permissions import has
from recordroom.audit.queries import patient_access_log
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.labels import BY_CODE
from recordroom.mpi.models import Patient
from recordroom.mpi.services import get_patient
from recordroom.records.chart import document_page, encounter_page, visible_encounters
from recordroom.records.models import Document, DocumentVersion
from recordroom.records.services import visible_documents
from recordroom.web.request import actor_from_request

from .views_common import denial_audited, requires

ACCESS_LOG_PAGE = 50


def _history(rows: Iterable[Any]) -> list[Any]:
    """Current entries first, then the rest from the most recently ended."""
    rows = list(rows)
    current = [r for r in rows if r.period_end is None]
    ended = sorted(
        (r for r in rows if r.period_end is not None),
        key=lambda r: r.period_end,
        reverse=True,
    )
    return current + ended


def labels(codes: Iterable[str]) -> list[tuple[str, str]]:
    return [(c, BY_CODE[c].display if c in BY_CODE else c) for c in codes]


def _document_row(doc: Document) -> dict[str, Any]:
    versions = sorted(doc.versions.all(), key=lambda v: v.number)
    latest = versions[-1] if versions else None
    signatures = list(latest.signatures.all()) if latest else []
    return {
        "doc": doc,
        "labels": labels(doc.sensitivity),
        "version_count": len(versions),
        "latest": latest,
        "signed": bool(signatures),
        "signers": ", ".join(str(s.signer) for s in signatures),
        "needs_signature": doc.doc_type.requires_signature,
    }


def _header(patient: Patient) -> dict[str, Any]:
    return {
        "patient": patient,
        "legal_name": patient.legal_name(),
        "mrns": [i for i in patient.identifiers.all() if i.kind == "MR"],
    }


CHART_PAGE = 100  # encounters and documents per page of the chart


@requires("view_chart")
def chart(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    enc_after = _uuid_param(request, "encounters_after")
    doc_after = _uuid_param(request, "documents_after")
    with denial_audited(request, action=actions.CHART_OPEN.name, patient=patient_id):
        patient = get_patient(user=request.user, patient_id=patient_id)
    encounters = encounter_page(
        user=request.user, patient=patient, after=enc_after, limit=CHART_PAGE
    )
    documents = document_page(
        user=request.user, patient=patient, after=doc_after, limit=CHART_PAGE
    )
    prefetch_related_objects(
        documents.items,
        "encounter",
        Prefetch(
            "versions",
            queryset=DocumentVersion.objects.prefetch_related("signatures__signer"),
        ),
    )
    record(
        actor=actor_from_request(request),
        action=actions.CHART_OPEN.name,
        patient=patient,
        obj=patient,
        detail={
            k: str(v)
            for k, v in (
                ("encounters_after", enc_after),
                ("documents_after", doc_after),
            )
            if v
        },
    )
    groups: dict[str, list[Document]] = {}
    for doc in documents.items:
        groups.setdefault(doc.doc_type.display, []).append(doc)
    context = {
        **_header(patient),
        "names": _history(patient.names.all()),
        "identifiers": _history(patient.identifiers.all()),
        "addresses": _history(patient.addresses.all()),
        "telecoms": _history(patient.telecoms.all()),
        "encounters": encounters.items,
        "encounters_next": encounters.next,
        "encounter_count": visible_encounters(request.user, patient).count(),
        "document_groups": [
            (display, [_document_row(d) for d in docs])
            for display, docs in sorted(groups.items())
        ],
        "documents_next": documents.next,
        "document_count": visible_documents(request.user)
        .filter(patient=patient)
        .count(),
        "paged": bool(enc_after or doc_after),
        "can_upload": has(request.user, "add_document"),
        "can_see_access_log": has(request.user, "view_access_log"),
    }
    return render(request, "web/chart.html", context)


def _uuid_param(request: HttpRequest, name: str) -> UUID | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise ValidationFailed(
            f"'{name}' must be a record id from the previous page, got {raw[:40]!r}",
            field=name,
        ) from None


def _before(request: HttpRequest) -> int | None:
    raw = request.GET.get("before", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationFailed(
            f"'before' must be an audit event number, got {raw[:40]!r}", field="before"
        )
    return int(raw)


@requires("view_access_log")
def access_log(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    before = _before(request)
    with denial_audited(
        request, action=actions.CHART_ACCESS_LOG.name, patient=patient_id
    ):
        patient = get_patient(user=request.user, patient_id=patient_id)
    record(
        actor=actor_from_request(request),
        action=actions.CHART_ACCESS_LOG.name,
        patient=patient,
        obj=patient,
        detail={"before": before} if before else {},
    )
    page = patient_access_log(
        patient_id=patient.pk,
        after=before,
        limit=ACCESS_LOG_PAGE,
        facility_ids=request.user.facility_ids(),  # type: ignore[union-attr]
    )
    rows = []
    for event in page.items:
        try:
            help_text = actions.get(event.action).help
        except KeyError:
            help_text = ""
        rows.append({"event": event, "help": help_text})
    context = {
        **_header(patient),
        "rows": rows,
        "next_before": page.next,
        "first_page": before is None,
        "can_view_chart": has(request.user, "view_chart"),
        "ndjson_url": f"/api/v1/patients/{patient.pk}/access-log.ndjson",
    }
    return render(request, "web/access_log.html", context)
