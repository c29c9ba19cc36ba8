"""Delinquency over the JSON API (R-RC-7): the monthly history and the rate per
facility and service, aging by level, the suspension list (JSON, CSV, PDF), and
letters to providers (write and send, list, read). Thin adapters."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.mpi.models import Facility

from .history import monthly_history, rate_breakdown
from .letters import letter_pdf, run_letters
from .models import ProviderLetter
from .suspension import aging_buckets, facility_in_scope
from .suspension_export import export_suspension_list, row

router = Router(tags=["completion"])
SPECIALIST = {"x-capability": "complete_charts"}
C = "/completion"


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _where(request: HttpRequest, facility: str) -> Facility | None:
    return facility_in_scope(_actor(request).user, facility)


@router.get(C + "/delinquency/history", openapi_extra=SPECIALIST)
def history(
    request: HttpRequest, facility: str = "", service: str = "", months: int = 0
) -> list[dict[str, Any]]:
    """The last complete months, oldest first: discharges, records delinquent at the
    month's end, and that month's rate (percent)."""
    try:
        points = monthly_history(facility=_where(request, facility), service=service,
                                 months=months or None)  # fmt: skip
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="months") from None
    return [{"start": p.start, "end": p.end, "discharges": p.discharges,
             "delinquent": p.delinquent,
             "rate_pct": None if p.rate_pct is None else str(p.rate_pct)}
            for p in points]  # fmt: skip


@router.get(C + "/delinquency/breakdown", openapi_extra=SPECIALIST)
def breakdown(request: HttpRequest, facility: str = "") -> list[dict[str, Any]]:
    """The rate of each facility in scope, then each of its services."""
    user = _actor(request).user
    where = facility_in_scope(user, facility)
    scope = user.facility_ids() if user is not None else None
    if facility and where is not None:
        facilities = [where]
    else:  # every facility in the user's scope
        qs = Facility.objects.order_by("code")
        facilities = list(qs if scope is None else qs.filter(pk__in=scope))
    return [{"facility": b.facility.code, "service": b.service,
             "average_delinquent": str(b.rate.average_delinquent),
             "average_monthly_discharges": str(b.rate.average_monthly_discharges),
             "rate_pct": None if b.rate.rate_pct is None else str(b.rate.rate_pct),
             "over_threshold": b.rate.over_threshold}
            for b in rate_breakdown(facilities=facilities)]  # fmt: skip


@router.get(C + "/aging", openapi_extra=SPECIALIST)
def aging(request: HttpRequest, facility: str = "") -> list[dict[str, Any]]:
    """Open deficiencies on discharged records by age in the configured levels."""
    return [{"label": b.label, "since_discharge": b.since_discharge,
             "since_assignment": b.since_assignment}
            for b in aging_buckets(facility=_where(request, facility))]  # fmt: skip


@router.get(C + "/suspension-list", openapi_extra=SPECIALIST)
def suspension(
    request: HttpRequest, facility: str = "", format: str = "json"
) -> Any:
    """Providers with records incomplete past the suspension days: JSON, or
    `format=csv` / `format=pdf` for the medical staff office."""
    rows, data = export_suspension_list(actor=_actor(request), fmt=format,
                                        facility=_where(request, facility))  # fmt: skip
    if format == "json":
        return [row(s) for s in rows]
    kind = "text/csv" if format == "csv" else "application/pdf"
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="suspension-list.{format}"'
    return response


class LetterOut(Schema):
    id: UUID
    provider_id: UUID
    provider: str
    facility: str
    level: str
    as_of: datetime
    records: int
    deficiencies: int
    oldest_discharge: datetime
    created_at: datetime
    email: str
    status: str
    sent_at: datetime | None
    error: str


def _letter(lt: ProviderLetter) -> dict[str, Any]:
    return {"id": lt.pk, "provider_id": lt.provider_id, "provider": str(lt.provider),
            "facility": lt.facility.code, "level": lt.level, "as_of": lt.as_of,
            "records": lt.records, "deficiencies": lt.deficiencies,
            "oldest_discharge": lt.oldest_discharge, "created_at": lt.created_at,
            "email": lt.email, "status": lt.status, "sent_at": lt.sent_at,
            "error": lt.error}  # fmt: skip


class LettersIn(Schema):
    facility: str = ""
    send: bool = Field(True, description="e-mail them when SMTP is set up")


class RunOut(Schema):
    written: list[LetterOut]
    sent: int
    failed: int
    not_sent: int
    skipped: int


@router.post(C + "/letters", response={201: RunOut}, openapi_extra=SPECIALIST)
def write_letters(request: HttpRequest, body: LettersIn) -> HttpStatus:
    """Write today's letters to providers owing records (and e-mail them)."""
    run = run_letters(actor=_actor(request), facility=_where(request, body.facility),
                      send=body.send)  # fmt: skip
    return HttpStatus(201, {"written": [_letter(lt) for lt in run.written],
                            "sent": run.sent, "failed": run.failed,
                            "not_sent": run.not_sent, "skipped": run.skipped})  # fmt: skip


def _scoped_letters(request: HttpRequest) -> Any:
    scope = _actor(request).user.facility_ids() if _actor(request).user else None
    qs = ProviderLetter.objects.select_related("provider", "facility")
    return qs if scope is None else qs.filter(facility_id__in=scope)


@router.get(C + "/letters", response=list[LetterOut], openapi_extra=SPECIALIST)
def letters(
    request: HttpRequest, provider: UUID | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Letters written, newest first."""
    qs = _scoped_letters(request)
    if provider is not None:
        qs = qs.filter(provider_id=provider)
    return [_letter(lt) for lt in qs[: max(1, min(limit, 500))]]


@router.get(C + "/letters/{letter_id}/content", openapi_extra=SPECIALIST)
def letter_content(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """A letter's PDF."""
    found = _scoped_letters(request).filter(pk=letter_id).first()
    if found is None:
        raise NotFound(f"no letter with id '{letter_id}'")
    response = HttpResponse(letter_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="letter-{found.pk}.pdf"'
    return response

