"""The chart (demographics with history, encounters, documents) and its access log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from recordroom.accounts.labels import BREAK_GLASS_HOURS
from recordroom.accounts.permissions import has
from recordroom.audit.queries import patient_access_log
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.kernel.labels import BY_CODE, plain
from recordroom.mpi.demographics import demographics_summary
from recordroom.mpi.models import Patient
from recordroom.mpi.services import get_patient
from recordroom.records.access import break_glass as access_breakglass
from recordroom.records.access import (
    chart_breakable,
    document_access,
    encounter_access,
    require_chart,
    result_access,
)
from recordroom.records.chart import (
    document_page,
    encounter_page,
    result_page,
    visible_encounters,
)
from recordroom.records.models import (
    Document,
    DocumentVersion,
    Encounter,
    ResultReport,
)
from recordroom.records.results import visible_results
from recordroom.records.services import visible_documents
from recordroom.web.request import actor_from_request

from .capture.chart import chart_context
from .views_common import audit_denied, denial_audited, requires

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


def _document_row(doc: Document, user: Any) -> dict[str, Any]:
    shown = document_access(user, doc)
    if not shown.allowed:
        # Restricted: that it exists, its date and type; no title, author or content.
        return {"doc": doc, "restricted": _plain(shown.refused)}
    versions = sorted(doc.versions.all(), key=lambda v: v.number)
    latest = versions[-1] if versions else None
    signatures = list(latest.signatures.all()) if latest else []
    return {
        "doc": doc,
        "restricted": "",
        "labels": labels(doc.sensitivity),
        "version_count": len(versions),
        "latest": latest,
        "signed": bool(signatures),
        "signers": ", ".join(str(s.signer) for s in signatures),
        "needs_signature": doc.doc_type.requires_signature,
    }


def _plain(codes: Iterable[str]) -> str:
    return ", ".join(plain(c) for c in codes)


def _encounter_row(encounter: Encounter, user: Any) -> dict[str, Any]:
    shown = encounter_access(user, encounter)
    return {
        "e": encounter,
        "restricted": "" if shown.allowed else _plain(shown.refused),
    }


def _result_row(report: ResultReport, user: Any) -> dict[str, Any]:
    shown = result_access(user, report)
    if not shown.allowed:  # as a restricted document: its date and test only
        return {"r": report, "restricted": _plain(shown.refused)}
    values = report.current  # type: ignore[attr-defined]
    labs = list(dict.fromkeys(o.performer_name for o in values if o.performer_name))
    return {"r": report, "restricted": "", "labels": labels(report.sensitivity),
            "values": values, "labs": labs}  # fmt: skip


def restricted_page(
    request: HttpRequest, patient: Patient, exc: PermissionDenied, *, what: str
) -> HttpResponse:
    """A 403 page for a chart or document the user's labels do not open, with the
    break-the-glass form when a reason would open it."""
    context = {
        **_header(patient),
        "message": exc.message,
        "what": what,
        "breakable": bool(chart_breakable(request.user, patient)),
        "break_glass_hours": BREAK_GLASS_HOURS,
        "next": request.get_full_path(),
    }
    return render(request, "web/restricted.html", context, status=403)


@requires("view_chart")
def break_glass(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """POST a reason to open what this chart's labels restrict (R-SEC-1)."""
    if request.method != "POST":
        return redirect("web:chart", patient_id=patient_id)
    with denial_audited(request, action=actions.CHART_BREAK_GLASS.name,
                        patient=patient_id):  # fmt: skip
        patient = get_patient(user=request.user, patient_id=patient_id)
    try:
        access_breakglass(
            actor=actor_from_request(request), patient=patient,
            reason=request.POST.get("reason", ""),
        )  # fmt: skip
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Access opened with your reason; the privacy "
                         "officer reviews it.")  # fmt: skip
    nxt = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts=None):
        nxt = ""
    return redirect(nxt or reverse("web:chart", kwargs={"patient_id": patient.pk}))


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
    res_after = _uuid_param(request, "results_after")
    with denial_audited(request, action=actions.CHART_OPEN.name, patient=patient_id):
        patient = get_patient(user=request.user, patient_id=patient_id)
    try:
        opened = require_chart(request.user, patient)  # VIP, restricted (R-SEC-1)
    except PermissionDenied as exc:
        audit_denied(request, action=actions.CHART_OPEN.name, patient=patient.pk,
                     exc=exc)  # fmt: skip
        return restricted_page(request, patient, exc, what="chart")
    encounters = encounter_page(
        user=request.user, patient=patient, after=enc_after, limit=CHART_PAGE
    )
    documents = document_page(
        user=request.user, patient=patient, after=doc_after, limit=CHART_PAGE
    )
    results = result_page(
        user=request.user, patient=patient, after=res_after, limit=CHART_PAGE
    )
    reports = results.items
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
            **{
                k: str(v)
                for k, v in (
                    ("encounters_after", enc_after),
                    ("documents_after", doc_after),
                    ("results_after", res_after),
                )
                if v
            },
            **opened.audit(),
            **({"results": len(reports)} if reports else {}),
        },
    )
    groups: dict[str, list[Document]] = {}
    for doc in documents.items:
        doc.patient = patient  # one chart: its labels apply to every row
        groups.setdefault(doc.doc_type.display, []).append(doc)
    for enc in encounters.items:
        enc.patient = patient
    for report in reports:
        report.patient = patient
    result_rows = [_result_row(r, request.user) for r in reports]
    document_rows = [
        (display, [_document_row(d, request.user) for d in docs])
        for display, docs in sorted(groups.items())
    ]
    encounter_rows = [_encounter_row(e, request.user) for e in encounters.items]
    restricted = any(r["restricted"] for _, rows in document_rows for r in rows) or any(
        r["restricted"] for r in [*encounter_rows, *result_rows]
    )
    context = {
        **_header(patient),
        "demographics": demographics_summary(patient),
        "names": _history(patient.names.all()),
        "identifiers": _history(patient.identifiers.all()),
        "addresses": _history(patient.addresses.all()),
        "telecoms": _history(patient.telecoms.all()),
        "encounters": encounter_rows,
        "restricted": restricted,
        "break_glass_hours": BREAK_GLASS_HOURS,
        "next": request.get_full_path(),
        "can_break_glass": restricted and bool(chart_breakable(request.user, patient)),
        "encounters_next": encounters.next,
        "encounter_count": visible_encounters(request.user, patient).count(),
        "document_groups": document_rows,
        "documents_next": documents.next,
        "document_count": visible_documents(request.user)
        .filter(patient=patient)
        .count(),
        "results": result_rows,
        "results_next": results.next,
        "result_count": visible_results(request.user).filter(patient=patient).count(),
        "paged": bool(enc_after or doc_after or res_after),
        "can_upload": has(request.user, "add_document"),
        "can_see_access_log": has(request.user, "view_access_log"),
        **chart_context(request, patient),
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
