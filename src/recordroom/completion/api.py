"""Chart completion over the JSON API: the deficiency list (keyset-paged), a
provider's own list and count, adding, reassigning, waiving and refusing, and the
delinquency rate. Thin adapters; lists audited per patient listed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.records.models import Document, Encounter, Provider

from . import services
from .delinquency import aging, delinquency_rate, delinquent_providers
from .models import Deficiency

router = Router(tags=["completion"])
SPECIALIST = {"x-capability": "complete_charts"}
PROVIDER = {"x-capability": "sign_document"}


class DeficiencyOut(Schema):
    id: UUID
    kind: str
    status: str
    description: str
    rule: str | None
    rule_version: int | None
    encounter_id: UUID
    account_number: str
    patient_id: UUID
    facility: str
    document_id: UUID | None
    provider_id: UUID | None
    provider: str
    opened_at: datetime
    assigned_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    reason: str
    days_since_discharge: int | None
    days_since_assignment: int
    aging_level: int


class Page(Schema):
    items: list[DeficiencyOut]
    next: str | None = Field(description="pass as `after` for the next page")


class Filters(Schema):
    provider: UUID | None = None
    status: str = ""
    facility: str = ""
    kind: str = ""
    after: str = ""
    limit: int = Field(50, ge=1, le=500)


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _out(d: Deficiency) -> dict[str, Any]:
    age = aging(d)
    return {
        "id": d.pk, "kind": d.kind, "status": d.status, "description": d.description,
        "rule": d.rule.code if d.rule else None, "rule_version": d.rule_version,
        "encounter_id": d.encounter_id, "account_number": d.encounter.account_number,
        "patient_id": d.patient_id, "facility": d.facility.code,
        "document_id": d.document_id, "provider_id": d.provider_id,
        "provider": str(d.provider) if d.provider else "", "opened_at": d.opened_at,
        "assigned_at": d.assigned_at, "due_at": d.due_at, "closed_at": d.closed_at,
        "reason": d.reason, "days_since_discharge": age.days_since_discharge,
        "days_since_assignment": age.days_since_assignment, "aging_level": age.level,
    }  # fmt: skip


def _cursor(text: str) -> tuple[datetime, UUID] | None:
    if not text:
        return None
    try:
        at, _, pk = text.partition("~")
        return datetime.fromisoformat(at), UUID(pk)
    except ValueError:
        raise ValidationFailed(f"after {text!r} is not a cursor this list gave",
                               field="after") from None  # fmt: skip


def _page(actor: Actor, items: list[Deficiency], limit: int) -> dict[str, Any]:
    record_many([EventSpec(actor, actions.COMPLETION_VIEW.name, pid,
                           detail={"listed": sum(d.patient_id == pid for d in items)})
                 for pid in dict.fromkeys(d.patient_id for d in items)])  # fmt: skip
    last = items[-1] if len(items) == limit else None
    return {
        "items": [_out(d) for d in items],
        "next": f"{last.opened_at.isoformat()}~{last.pk}" if last else None,
    }


@router.get("/deficiencies", response=Page, openapi_extra=SPECIALIST)
def list_deficiencies(request: HttpRequest, filters: Query[Filters]) -> dict[str, Any]:
    """Deficiencies, oldest first: filter by provider, status, facility, kind."""
    actor = _actor(request)
    items = services.list_deficiencies(
        user=actor.user, provider=filters.provider, status=filters.status,
        facility=filters.facility, kind=filters.kind, after=_cursor(filters.after),
        limit=filters.limit,
    )  # fmt: skip
    return _page(actor, items, filters.limit)


def _my_provider(actor: Actor) -> Provider:
    mine = (
        Provider.objects.filter(user_id=actor.user.pk).first() if actor.user else None
    )
    if mine is None:
        raise NotFound("your account is not linked to a provider")
    return mine


@router.get("/deficiencies/mine", response=Page, openapi_extra=PROVIDER)
def my_deficiencies(
    request: HttpRequest, status: str = "open", after: str = "", limit: int = 50
) -> dict[str, Any]:
    """The signed-in provider's own deficiencies, oldest first."""
    actor = _actor(request)
    limit = max(1, min(limit, 500))
    items = services.list_deficiencies(
        user=actor.user, provider=_my_provider(actor).pk, status=status,
        after=_cursor(after), limit=limit,
    )  # fmt: skip
    return _page(actor, items, limit)


@router.get("/deficiencies/mine/count", openapi_extra=PROVIDER)
def my_count(request: HttpRequest) -> dict[str, int]:
    """How many deficiencies the signed-in provider has open (the landing page)."""
    return {"open": services.open_count(provider=_my_provider(_actor(request)))}


class AddIn(Schema):
    encounter_id: UUID
    kind: str
    description: str = Field(max_length=300)
    provider_id: UUID | None = None
    document_id: UUID | None = None
    due_days: int | None = Field(None, ge=0, le=365)


def _get(model: Any, pk: Any, what: str) -> Any:
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"no {what} with id '{pk}'")
    return found


@router.post("/deficiencies", response={201: DeficiencyOut}, openapi_extra=SPECIALIST)
def add(request: HttpRequest, body: AddIn) -> Status:
    """Add a deficiency the rules did not find."""
    d = services.add_deficiency(
        actor=_actor(request), encounter=_get(Encounter, body.encounter_id, "encounter"),
        kind=body.kind, description=body.description,
        provider=_get(Provider, body.provider_id, "provider") if body.provider_id else None,
        document=_get(Document, body.document_id, "document") if body.document_id else None,
        due_days=body.due_days,
    )  # fmt: skip
    return Status(201, _fresh(d))


class ReassignIn(Schema):
    provider_id: UUID
    reason: str = Field("", max_length=300)


class ReasonIn(Schema):
    reason: str = Field(max_length=300)


def _one(request: HttpRequest, deficiency_id: UUID) -> Deficiency:
    return services.get_deficiency(actor=_actor(request), deficiency_id=deficiency_id)


def _fresh(d: Deficiency) -> dict[str, Any]:
    return _out(Deficiency.objects.select_related(
        "encounter", "facility", "provider", "rule").get(pk=d.pk))  # fmt: skip


@router.post("/deficiencies/{deficiency_id}/reassign", response=DeficiencyOut,
             openapi_extra=SPECIALIST)  # fmt: skip
def reassign(
    request: HttpRequest, deficiency_id: UUID, body: ReassignIn
) -> dict[str, Any]:
    d = _one(request, deficiency_id)
    provider = _get(Provider, body.provider_id, "provider")
    if d.status == "refused":
        d = services.reopen_refused(actor=_actor(request), deficiency=d,
                                    provider=provider, reason=body.reason)  # fmt: skip
    else:
        d = services.reassign_deficiency(actor=_actor(request), deficiency=d,
                                         provider=provider, reason=body.reason)  # fmt: skip
    return _fresh(d)


@router.post("/deficiencies/{deficiency_id}/waive", response=DeficiencyOut,
             openapi_extra=SPECIALIST)  # fmt: skip
def waive(request: HttpRequest, deficiency_id: UUID, body: ReasonIn) -> dict[str, Any]:
    d = services.waive_deficiency(actor=_actor(request),
                                  deficiency=_one(request, deficiency_id),
                                  reason=body.reason)  # fmt: skip
    return _fresh(d)


@router.post("/deficiencies/{deficiency_id}/refuse", response=DeficiencyOut,
             openapi_extra=PROVIDER)  # fmt: skip
def refuse(request: HttpRequest, deficiency_id: UUID, body: ReasonIn) -> dict[str, Any]:
    """The assigned provider refuses a deficiency assigned in error."""
    d = services.refuse_deficiency(actor=_actor(request),
                                   deficiency=_one(request, deficiency_id),
                                   reason=body.reason)  # fmt: skip
    return _fresh(d)


@router.get("/completion/delinquency", openapi_extra=SPECIALIST)
def delinquency(
    request: HttpRequest, facility: str = "", service: str = ""
) -> dict[str, Any]:
    """The delinquency rate (R-RC-7) and the providers with delinquent records."""
    from recordroom.mpi.models import Facility

    where = None
    if facility:
        where = Facility.objects.filter(code=facility).first()
        if where is None:
            raise NotFound(f"no facility {facility!r}")
    rate = delinquency_rate(facility=where, service=service)
    providers = delinquent_providers(facility=where, service=service)
    return {
        "method": rate.method, "frequency": rate.frequency,
        "periods": [{"start": p.start, "end": p.end, "delinquent": p.delinquent,
                     "discharges": p.discharges} for p in rate.periods],
        "average_delinquent": str(rate.average_delinquent),
        "average_monthly_discharges": str(rate.average_monthly_discharges),
        "rate_pct": None if rate.rate_pct is None else str(rate.rate_pct),
        "threshold_pct": str(rate.threshold_pct), "over_threshold": rate.over_threshold,
        "providers": [{"provider_id": str(r.provider.pk), "provider": str(r.provider),
                       "records": r.records, "deficiencies": r.deficiencies,
                       "oldest_discharge": r.oldest_discharge} for r in providers],
    }  # fmt: skip


class ChartOut(Schema):
    encounter_id: UUID
    account_number: str
    patient_id: UUID
    facility: str
    attending: str
    discharge_at: datetime
    days_since_discharge: int
    analyzed_at: datetime | None
    open_deficiencies: int | None


@router.get("/completion/charts", response=list[ChartOut], openapi_extra=SPECIALIST)
def charts(
    request: HttpRequest, state: str = "deficient", facility: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    """Charts awaiting analysis, deficient, or complete for coding; oldest first."""
    from django.utils import timezone

    actor = _actor(request)
    rows = services.chart_worklist(user=actor.user, state=state, facility=facility,
                                   limit=limit)  # fmt: skip
    record_many([EventSpec(actor, actions.COMPLETION_VIEW.name, pid,
                           detail={"worklist": state})
                 for pid in dict.fromkeys(e.patient_id for e in rows)])  # fmt: skip
    now = timezone.now()
    out = []
    for e in rows:
        done = getattr(e, "analysis", None)
        out.append({
            "encounter_id": e.pk, "account_number": e.account_number,
            "patient_id": e.patient_id, "facility": e.facility.code,
            "attending": str(e.attending) if e.attending else "",
            "discharge_at": e.discharge_at,
            "days_since_discharge": (now - e.discharge_at).days
            if e.discharge_at else 0,
            "analyzed_at": done.analyzed_at if done else None,
            "open_deficiencies": done.open_count if done else None,
        })  # fmt: skip
    return out
