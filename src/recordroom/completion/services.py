"""What a specialist does to deficiencies by hand (add, reassign, waive with a reason)
and what a provider does (refuse one assigned in error, with a reason); each audited
in its own transaction. And the reads: the list, and a provider's count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from recordroom.kernel.ids import uuid7
from recordroom.records.models import Document, Encounter, Provider

from .models import Deficiency, DeficiencyEvent, Kind, Status


def _in_scope(actor: Actor, facility_id: Any) -> None:
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is not None and facility_id not in scope:
        raise PermissionDenied("that visit is at a facility outside your facilities")


def visible(user: Any) -> QuerySet[Deficiency]:
    scope = user.facility_ids() if user is not None else None
    qs = Deficiency.objects.all()
    return qs if scope is None else qs.filter(facility_id__in=scope)


def get_deficiency(*, actor: Actor, deficiency_id: Any) -> Deficiency:
    try:
        d = Deficiency.objects.select_related("provider", "rule").get(pk=deficiency_id)
    except Exception:  # a malformed id and a missing row both mean: no such one
        raise NotFound(f"no deficiency with id '{deficiency_id}'") from None
    _in_scope(actor, d.facility_id)
    return d


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise ValidationFailed(f"say why the deficiency is {what}", field="reason")
    return reason.strip()[:300]


def _event(actor: Actor, d: Deficiency, what: str, detail: dict[str, Any]) -> None:
    DeficiencyEvent.objects.create(deficiency=d, at=timezone.now(), by=actor.username,
                                   what=what, detail=detail)  # fmt: skip


def add_deficiency(
    *,
    actor: Actor,
    encounter: Encounter,
    kind: str,
    description: str,
    provider: Provider | None = None,
    document: Document | None = None,
    due_days: int | None = None,
) -> Deficiency:
    """A deficiency the rules did not find, added by a specialist. No analysis closes
    it: it is waived, refused or closed by hand."""
    if kind not in Kind.values:
        raise ValidationFailed(
            f"unknown kind {kind!r}; use one of {', '.join(Kind.values)}", field="kind"
        )
    if not description.strip():
        raise ValidationFailed("say what is deficient", field="description")
    if document is not None and document.encounter_id != encounter.pk:
        raise ValidationFailed("the document is not of this visit", field="document")
    _in_scope(actor, encounter.facility_id)
    now = timezone.now()
    with transaction.atomic():
        pk = uuid7()
        d = Deficiency.objects.create(
            id=pk, encounter=encounter, patient_id=encounter.patient_id,
            facility_id=encounter.facility_id, kind=kind, anchor=f"hand:{pk}",
            document=document, description=description.strip()[:300],
            provider=provider or encounter.attending, assigned_at=now, opened_at=now,
            due_at=now + timedelta(days=due_days) if due_days is not None else None,
            status=Status.OPEN,
        )  # fmt: skip
        _event(actor, d, "added", {"kind": kind})
        record(actor=actor, action=actions.COMPLETION_ADD.name, patient=d.patient_id,
               obj=d, detail={"kind": kind, "account": encounter.account_number,
                              "provider": str(d.provider_id or "")})  # fmt: skip
    return d


def reassign_deficiency(
    *, actor: Actor, deficiency: Deficiency, provider: Provider, reason: str = ""
) -> Deficiency:
    _in_scope(actor, deficiency.facility_id)
    with transaction.atomic():
        d = Deficiency.objects.select_for_update().get(pk=deficiency.pk)
        if d.status != Status.OPEN:
            raise Conflict(f"a {d.status} deficiency is not reassigned")
        if d.provider_id == provider.pk:
            raise Conflict(f"the deficiency is already assigned to {provider}")
        before = d.provider_id
        d.provider, d.assigned_at = provider, timezone.now()
        d.save(update_fields=["provider", "assigned_at", "updated_at"])
        detail = {"from": str(before or ""), "to": str(provider.pk), "reason": reason}
        _event(actor, d, "reassigned", detail)
        record(actor=actor, action=actions.COMPLETION_REASSIGN.name,
               patient=d.patient_id, obj=d, detail=detail)  # fmt: skip
    return d


def _finish(
    actor: Actor, deficiency: Deficiency, status: str, reason: str, action: str
) -> Deficiency:
    with transaction.atomic():
        d = Deficiency.objects.select_for_update().get(pk=deficiency.pk)
        if d.status != Status.OPEN:
            raise Conflict(f"the deficiency is {d.status}, not open")
        d.status, d.reason, d.closed_at = status, reason, timezone.now()
        d.save(update_fields=["status", "reason", "closed_at", "updated_at"])
        _event(actor, d, status, {"reason": reason})
        record(actor=actor, action=action, patient=d.patient_id, obj=d,
               detail={"kind": d.kind, "reason": reason})  # fmt: skip
    return d


def waive_deficiency(
    *, actor: Actor, deficiency: Deficiency, reason: str
) -> Deficiency:
    """A specialist waives a deficiency (with a reason); analysis leaves it waived."""
    _in_scope(actor, deficiency.facility_id)
    return _finish(actor, deficiency, Status.WAIVED, _reason(reason, "waived"),
                   actions.COMPLETION_WAIVE.name)  # fmt: skip


def refuse_deficiency(
    *, actor: Actor, deficiency: Deficiency, reason: str
) -> Deficiency:
    """The assigned provider refuses a deficiency assigned in error, with a reason;
    it goes back to the specialists (who may reassign it: a refused one reopens)."""
    mine = (
        Provider.objects.filter(user_id=actor.user.pk).first() if actor.user else None
    )
    if actor.user is not None and (mine is None or mine.pk != deficiency.provider_id):
        raise PermissionDenied("only the provider it is assigned to may refuse it")
    return _finish(actor, deficiency, Status.REFUSED, _reason(reason, "refused"),
                   actions.COMPLETION_REFUSE.name)  # fmt: skip


def reopen_refused(
    *, actor: Actor, deficiency: Deficiency, provider: Provider, reason: str
) -> Deficiency:
    """A refused deficiency sent to the right provider: open again, reassigned."""
    _in_scope(actor, deficiency.facility_id)
    with transaction.atomic():
        d = Deficiency.objects.select_for_update().get(pk=deficiency.pk)
        if d.status != Status.REFUSED:
            raise Conflict(f"the deficiency is {d.status}, not refused")
        d.status, d.closed_at, d.reason = Status.OPEN, None, ""
        d.save(update_fields=["status", "closed_at", "reason", "updated_at"])
        _event(actor, d, "reopened", {"reason": reason})
    return reassign_deficiency(actor=actor, deficiency=d, provider=provider,
                               reason=reason)  # fmt: skip


def open_count(*, provider: Provider) -> int:
    """A provider's open deficiencies (the landing page's count)."""
    return Deficiency.objects.filter(provider=provider, status=Status.OPEN).count()


def list_deficiencies(
    *,
    user: Any,
    provider: Any = None,
    status: str = "",
    facility: str = "",
    kind: str = "",
    after: tuple[datetime, Any] | None = None,
    limit: int = 50,
) -> list[Deficiency]:
    """Deficiencies oldest first, keyset-paged by (opened_at, id)."""
    if status and status not in Status.values:
        raise ValidationFailed(f"unknown status {status!r}; use one of "
                               + ", ".join(Status.values), field="status")  # fmt: skip
    if kind and kind not in Kind.values:
        raise ValidationFailed(f"unknown kind {kind!r}", field="kind")
    qs = visible(user).select_related("provider", "rule", "facility", "encounter")
    if provider is not None:
        qs = qs.filter(provider_id=provider)
    if status:
        qs = qs.filter(status=status)
    if facility:
        qs = qs.filter(facility__code=facility)
    if kind:
        qs = qs.filter(kind=kind)
    if after is not None:
        at, pk = after
        qs = qs.filter(opened_at__gt=at) | qs.filter(opened_at=at, id__gt=pk)
    return list(qs.order_by("opened_at", "id")[: max(1, min(limit, 500))])


CHART_STATES = ("awaiting", "deficient", "complete")


def chart_worklist(
    *, user: Any, state: str, facility: str = "", limit: int = 100
) -> list[Encounter]:
    """The specialists' worklists, oldest discharge first: charts awaiting analysis
    (discharged, not analysed since), deficient (open deficiencies), complete for
    coding (analysed after discharge, nothing open)."""
    from django.db.models import Exists, F, OuterRef, Q

    if state not in CHART_STATES:
        raise ValidationFailed(
            f"unknown worklist {state!r}; use one of {', '.join(CHART_STATES)}",
            field="state",
        )
    qs = Encounter.objects.filter(status="finished", discharge_at__isnull=False)
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        qs = qs.filter(facility_id__in=scope)
    if facility:
        qs = qs.filter(facility__code=facility)
    analysed = Q(analysis__analyzed_at__gte=F("discharge_at"))
    # a deficiency added by hand after the analysis is open too
    held = Exists(Deficiency.objects.filter(encounter=OuterRef("pk"),
                                            status=Status.OPEN))  # fmt: skip
    if state == "awaiting":
        qs = qs.exclude(analysed)
    elif state == "deficient":
        qs = qs.filter(analysed).filter(Q(analysis__open_count__gt=0) | held)
    else:
        qs = qs.filter(analysed, analysis__open_count=0).exclude(held)
    return list(
        qs.select_related("facility", "analysis", "attending").order_by(
            "discharge_at", "id"
        )[: max(1, min(limit, 500))]
    )


def close_deficiency(
    *, actor: Actor, deficiency: Deficiency, reason: str, action: str
) -> Deficiency:
    """Close an open hand-added deficiency whose wait is over outside the rules (a
    query answered: its app calls this with its own audit `action`)."""
    _in_scope(actor, deficiency.facility_id)
    return _finish(actor, deficiency, Status.CLOSED, _reason(reason, "closed"), action)
