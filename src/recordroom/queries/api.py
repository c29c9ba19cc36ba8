"""Compliant queries over the JSON API: the templates, raising a query (refused with
rule IDs when it leads), the worklist, one query, withdrawal, the specialist's
agreement call, a provider's own open queries with their count and the answer, and
the metrics. Thin adapters; reads audited per patient."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query as QueryParams
from ninja import Router, Schema, Status
from pydantic import Field

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound
from recordroom.records.models import Document, Encounter, Provider

from . import metrics, reads, services
from .models import QueryTemplate

router = Router(tags=["queries"])
CAP = {"x-capability": reads.CAPABILITY}
PROVIDER = {"x-capability": reads.PROVIDER_CAPABILITY}


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class IndicatorIn(Schema):
    kind: str = ""
    observation_id: UUID | None = None
    document_id: UUID | None = None
    version: int | None = Field(None, ge=1)
    quote: str = Field("", max_length=2000)
    label: str = Field("", max_length=200)


class RaiseIn(Schema):
    encounter_id: UUID
    provider_id: UUID
    template: str = ""
    format: str = ""
    purpose: str = ""
    question: str = Field(max_length=4000)
    options: list[str] = []
    yes_no_ground: str = ""
    document_id: UUID | None = None
    verbal: bool = False
    indicators: list[IndicatorIn]


class AnswerIn(Schema):
    answer: str = ""
    answer_text: str = Field("", max_length=4000)
    comment: str = Field("", max_length=4000)
    as_addendum: bool = False


class WithdrawIn(Schema):
    reason: str = Field(max_length=300)


class AgreementIn(Schema):
    agreed: bool


class ListFilter(Schema):
    status: str = ""
    provider: UUID | None = None
    overdue: bool = False
    limit: int = Field(100, ge=1, le=2000)


class MetricsFilter(Schema):
    since: datetime | None = None
    until: datetime | None = None
    facility: str = ""


def _get(model: Any, pk: Any, what: str) -> Any:
    found = model.objects.filter(pk=pk).first() if pk else None
    if found is None:
        raise NotFound(f"no {what} with id '{pk}'")
    return found


@router.get("/query-templates", openapi_extra=CAP)
def templates(request: HttpRequest) -> list[dict[str, Any]]:
    """The active query templates; their options are a menu, none pre-selected."""
    return [{"code": t.code, "name": t.name, "version": t.version,
             **services.from_template(t)}
            for t in QueryTemplate.objects.filter(active=True)]  # fmt: skip


@router.post("/queries", response={201: dict}, openapi_extra=CAP)
def raise_query(request: HttpRequest, data: RaiseIn) -> Status[dict[str, Any]]:
    """Send a query; a 422 lists every problem of the wording with its rule ID."""
    template = None
    if data.template:
        template = QueryTemplate.objects.filter(code=data.template, active=True).first()
        if template is None:
            raise NotFound(f"no active query template {data.template!r}")
    q = services.raise_query(
        actor=_actor(request),
        encounter=_get(Encounter, data.encounter_id, "visit"),
        provider=_get(Provider, data.provider_id, "provider"),
        question=data.question, format=data.format, purpose=data.purpose,
        options=data.options, yes_no_ground=data.yes_no_ground, template=template,
        document=_get(Document, data.document_id, "document")
        if data.document_id else None, verbal=data.verbal,
        indicators=[services.IndicatorIn(**i.dict()) for i in data.indicators])  # fmt: skip
    return Status(201, reads.as_dict(q))


@router.get("/queries", openapi_extra=CAP)
def worklist(request: HttpRequest, filters: QueryParams[ListFilter]) -> dict[str, Any]:
    """Queries oldest first (open ones unless a status is named)."""
    actor = _actor(request)
    rows = services.worklist(user=actor.user, status=filters.status,
                             provider=filters.provider, overdue=filters.overdue,
                             limit=filters.limit)  # fmt: skip
    reads.audit_listed(actor, "queries", [q.patient_id for q in rows])
    return {"items": [reads.as_dict(q, indicators=False) for q in rows]}


@router.get("/queries/metrics", openapi_extra=CAP)
def query_metrics(request: HttpRequest,
                  filters: QueryParams[MetricsFilter]) -> dict[str, Any]:  # fmt: skip
    """Response rate, time to answer and agreement rate, per provider and template."""
    return metrics.compute(user=_actor(request).user, since=filters.since,
                           until=filters.until, facility=filters.facility).as_dict()  # fmt: skip


@router.get("/queries/mine", openapi_extra=PROVIDER)
def mine(request: HttpRequest) -> dict[str, Any]:
    """The signed-in provider's open queries, oldest first (their inbox)."""
    actor = _actor(request)
    rows = list(services.open_queries_for(services.my_provider(actor.user)))
    reads.audit_listed(actor, "my queries", [q.patient_id for q in rows])
    return {"items": [reads.as_dict(q) for q in rows]}


@router.get("/queries/mine/count", openapi_extra=PROVIDER)
def mine_count(request: HttpRequest) -> dict[str, int]:
    """How many queries the signed-in provider has to answer."""
    return {"open": services.open_count_for(services.my_provider(_actor(request).user))}


@router.post("/queries/mine/{query_id}/answer", openapi_extra=PROVIDER)
def answer(request: HttpRequest, query_id: UUID, data: AnswerIn) -> dict[str, Any]:
    """Answer a query addressed to you: filed and signed in the record."""
    actor = _actor(request)
    q = services.get_query(user=actor.user, query_id=query_id)
    q = services.answer_query(actor=actor, query=q, answer=data.answer,
                              answer_text=data.answer_text, comment=data.comment,
                              as_addendum=data.as_addendum)  # fmt: skip
    return reads.as_dict(q)


@router.get("/queries/{query_id}", openapi_extra=CAP)
def read(request: HttpRequest, query_id: UUID) -> dict[str, Any]:
    """One query with its indicators, answer and timing."""
    return reads.as_dict(reads.open_query(_actor(request), query_id, part="query"))


@router.post("/queries/{query_id}/withdraw", openapi_extra=CAP)
def withdraw(request: HttpRequest, query_id: UUID, data: WithdrawIn) -> dict[str, Any]:
    actor = _actor(request)
    q = services.get_query(user=actor.user, query_id=query_id)
    return reads.as_dict(services.withdraw_query(actor=actor, query=q,
                                                 reason=data.reason))  # fmt: skip


@router.post("/queries/{query_id}/agreement", openapi_extra=CAP)
def agreement(request: HttpRequest, query_id: UUID, data: AgreementIn) -> dict[str, Any]:
    """Record whether an open-ended or "other" answer documented a clarification."""
    actor = _actor(request)
    q = services.get_query(user=actor.user, query_id=query_id)
    return reads.as_dict(services.record_agreement(actor=actor, query=q,
                                                   agreed=data.agreed))  # fmt: skip
