"""The analysis: what a visit's chart must hold under the active rules, reconciled
with the deficiencies it has. Idempotent: a requirement met closes its deficiency, a
requirement unmet again (its document entered in error) reopens it, and running it
twice changes nothing the second time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, sqlrows
from recordroom.kernel.actor import Actor
from recordroom.records.models import (
    Encounter,
    EncounterStatus,
    SignatureMeaning,
)

from .chart import (
    AUTHENTICATING,
    Chart,
    Doc,
    Proc,
    load_chart,
    load_charts,
    missing_phrases,
    text_of,
)
from .models import (
    DOCUMENT_KINDS,
    ChartAnalysis,
    Deficiency,
    DeficiencyEvent,
    DeficiencyRule,
    Event,
    Kind,
    Responsible,
    Status,
)

COSIGNING = frozenset({SignatureMeaning.COSIGNER})
_GONE = (EncounterStatus.CANCELLED, EncounterStatus.ENTERED_IN_ERROR)


@dataclass
class Need:
    """One requirement of the chart, met or not."""

    rule: DeficiencyRule
    anchor: str
    description: str
    met: bool
    due_at: datetime | None
    provider_id: Any
    document_id: Any = None
    met_by: Any = None


@dataclass
class AnalysisResult:
    encounter_id: Any
    opened: list[Any] = field(default_factory=list)
    closed: list[Any] = field(default_factory=list)
    reopened: list[Any] = field(default_factory=list)
    open_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.opened or self.closed or self.reopened)

    @property
    def open_count(self) -> int:
        return sum(self.open_by_kind.values())


def active_rules() -> list[DeficiencyRule]:
    return list(DeficiencyRule.objects.filter(active=True).order_by("code"))


def analyze_encounter(
    *,
    actor: Actor,
    encounter: Encounter,
    rules: list[DeficiencyRule] | None = None,
    preloaded: tuple[Chart, list[Deficiency]] | None = None,
) -> AnalysisResult:
    """Open the deficiencies the rules require of the visit's chart, close those now
    met, reopen those unmet again; audited as one `completion.analyze` event when
    anything changed. `rules` and `preloaded` (the chart and its deficiencies) let a
    batch read them for many visits at once."""
    rules = active_rules() if rules is None else rules
    now = timezone.now()
    with transaction.atomic():
        # One analysis of a visit at a time (PostgreSQL; SQLite's writer lock).
        if connection.features.has_select_for_update:
            list(Encounter.objects.select_for_update().filter(pk=encounter.pk)
                 .values_list("pk"))  # fmt: skip
        services: set[str] | None = None
        applying = []
        for rule in rules:
            if rule.service and services is None:
                services = service_of(encounter)
            if _applies(rule, encounter, services or set()):
                applying.append(rule)
        chart = (
            preloaded[0]
            if preloaded is not None
            else load_chart(
                encounter.pk,
                need_standings=any(r.kind == Kind.COSIGNATURE for r in applying),
            )
        )
        needs = [n for r in applying for n in _needs(r, encounter, chart)]
        every = (
            preloaded[1]
            if preloaded is not None
            else list(Deficiency.objects.filter(encounter=encounter).order_by())
        )
        result = _reconcile(actor, encounter, needs, every, now)
        done = {"analyzed_at": now, "open_count": result.open_count}
        if not sqlrows.update(ChartAnalysis, [encounter.pk], **done):
            sqlrows.insert([ChartAnalysis(encounter=encounter, **done)])
        if result.changed:
            record(
                actor=actor,
                action=actions.COMPLETION_ANALYZE.name,
                patient=encounter.patient_id,
                obj=encounter,
                detail={
                    "account": encounter.account_number,
                    "opened": [str(i) for i in result.opened],
                    "closed": [str(i) for i in result.closed],
                    "reopened": [str(i) for i in result.reopened],
                    "open": result.open_by_kind,
                },
            )
    return result


# Changes that arrive over an interface are analysed by the worker: the message's
# ACK does not wait for the analysis (about 10 ms of CPU a chart, which would cost
# an MLLP connection a third of its throughput). The task is queued in the message's
# own transaction, so an applied message always leaves its analysis queued.
DEFERRED_CHANNELS = frozenset({"hl7"})


def on_chart_changed(*, actor: Actor, encounter_id: Any, event: str) -> None:
    """The records hook (records.hooks): re-analyse the visit whose chart changed,
    now, or through the worker for interface traffic (DEFERRED_CHANNELS)."""
    if actor.channel in DEFERRED_CHANNELS:
        from .tasks import analyze_visit_task

        analyze_visit_task.enqueue(str(encounter_id))
        return
    encounter = Encounter.objects.filter(pk=encounter_id).first()
    if encounter is not None:
        analyze_encounter(actor=actor, encounter=encounter)


def analyze_many(
    *,
    actor: Actor,
    encounters: Iterable[Encounter],
    progress: Callable[[int], None] | None = None,
    batch: int = 200,
) -> Counter[str]:
    """Analyse many visits with the rules loaded once and the charts read `batch` at
    a time; the open deficiencies by kind. A chart changed between its read and its
    analysis is analysed again by the change itself (the records hook)."""
    rules = active_rules()
    standings = any(r.kind == Kind.COSIGNATURE for r in rules)
    totals: Counter[str] = Counter()
    done = 0
    for chunk in _chunks(encounters, batch):
        ids = [e.pk for e in chunk]
        charts = load_charts(ids, need_standings=standings)
        held: dict[Any, list[Deficiency]] = {pk: [] for pk in ids}
        for d in Deficiency.objects.filter(encounter_id__in=ids).order_by():
            held[d.encounter_id].append(d)
        for encounter in chunk:
            result = analyze_encounter(
                actor=actor, encounter=encounter, rules=rules,
                preloaded=(charts[encounter.pk], held[encounter.pk]),
            )  # fmt: skip
            totals.update(result.open_by_kind)
            done += 1
            if progress is not None:
                progress(done)
    return totals


def _chunks(items: Iterable[Encounter], size: int) -> Iterator[list[Encounter]]:
    chunk: list[Encounter] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- which rules, which needs ----------------------------------------------------------


def discharged(encounter: Encounter) -> bool:
    return (
        encounter.status == EncounterStatus.FINISHED
        and encounter.discharge_at is not None
    )


def service_of(encounter: Encounter) -> set[str]:
    """What a rule's service matches: the codes and texts of the visit's types, and
    the attending's specialty (lower-cased)."""
    found: set[str] = set()
    for concept in encounter.types or []:
        if isinstance(concept, dict):
            found.add(str(concept.get("text", "")).lower())
            for coding in concept.get("coding", []) or []:
                found.add(str(coding.get("code", "")).lower())
    if encounter.attending_id is not None and encounter.attending is not None:
        found.add(encounter.attending.specialty.lower())
    return found - {""}


def _applies(rule: DeficiencyRule, encounter: Encounter, services: set[str]) -> bool:
    if encounter.status in _GONE:
        return False
    if rule.facility_id is not None and rule.facility_id != encounter.facility_id:
        return False
    if (
        rule.encounter_classes
        and encounter.encounter_class not in rule.encounter_classes
    ):
        return False
    if rule.service and rule.service.lower() not in services:
        return False
    return discharged(encounter) or rule.in_house


def _needs(rule: DeficiencyRule, encounter: Encounter, chart: Chart) -> list[Need]:
    if rule.kind == Kind.MISSING_DOCUMENT:
        return _document_needs(rule, encounter, chart)
    if rule.kind in DOCUMENT_KINDS:
        return [
            need
            for doc in chart.documents
            if not doc.in_error
            and (not rule.doc_types or doc.type_code in rule.doc_types)
            and (need := _of_document(rule, encounter, chart, doc)) is not None
        ]
    return []


def _events(
    rule: DeficiencyRule, encounter: Encounter, chart: Chart
) -> list[tuple[str, Any, Proc | None]]:
    """The moments a missing-document rule counts from, with their anchors."""
    if rule.event == Event.ADMISSION:
        return [("", encounter.admit_at, None)] if encounter.admit_at else []
    if rule.event == Event.DISCHARGE:
        return [("", encounter.discharge_at, None)] if discharged(encounter) else []
    if rule.event in (Event.PROCEDURE_START, Event.PROCEDURE_END):
        return [
            (
                f"proc:{p.id}",
                p.start if rule.event == Event.PROCEDURE_START else p.end,
                p,
            )
            for p in chart.procedures
            if not rule.procedure_codes
            or any(p.code.startswith(c) for c in rule.procedure_codes)
        ]
    return []


def _hours(n: int | None) -> timedelta | None:
    return None if n is None else timedelta(hours=n)


def _document_needs(
    rule: DeficiencyRule, encounter: Encounter, chart: Chart
) -> list[Need]:
    needs = []
    before, after = _hours(rule.window_before_hours), _hours(rule.window_after_hours)
    for anchor, at, proc in _events(rule, encounter, chart):
        found = sorted(
            (d for d in chart.documents
             if not d.in_error and d.type_code in rule.doc_types
             and (before is None or d.service_start >= at - before)
             and (after is None or d.service_start <= at + after)),
            key=lambda d: d.service_start,
        )  # fmt: skip
        who = _responsible(rule, encounter, proc=proc)
        what = rule.name + (f": {proc.display}" if proc else "")
        needs.append(Need(rule, anchor, what, bool(found), at + timedelta(
            hours=rule.due_hours), who, met_by=found[0].id if found else None))  # fmt: skip
        # R-RC-3: a document from before the event needs an update note after it.
        if found and rule.update_doc_types and all(d.service_start < at for d in found):
            updates = [d for d in chart.documents if not d.in_error
                       and d.type_code in rule.update_doc_types
                       and d.service_start >= at]  # fmt: skip
            needs.append(Need(
                rule, f"{anchor}:update" if anchor else "update",
                f"Update note to the document of {found[-1].service_start:%Y-%m-%d} "
                f"({rule.name})", bool(updates),
                at + timedelta(hours=rule.update_within_hours), who,
                met_by=updates[0].id if updates else None,
            ))  # fmt: skip
    return needs


def _of_document(
    rule: DeficiencyRule, encounter: Encounter, chart: Chart, doc: Doc
) -> Need | None:
    what = (
        f"{_KIND_WORDS[rule.kind]}: {doc.type_display} of {doc.service_start:%Y-%m-%d}"
    )
    if rule.kind == Kind.SIGNATURE:
        if not doc.requires_signature:
            return None
        met = doc.signed_as(AUTHENTICATING)
    elif rule.kind == Kind.VERBAL_ORDER:
        met = doc.signed_as(AUTHENTICATING)
    elif rule.kind == Kind.COSIGNATURE:
        if chart.standings.get(doc.author_id) not in rule.author_roles:
            return None
        met = doc.signed_as(COSIGNING)
    elif rule.kind == Kind.DICTATION:
        met = doc.status != "preliminary"
    elif rule.kind == Kind.INCOMPLETE:
        text = text_of(doc) if doc.version_sha else None
        if text is None:  # a scan without a text layer: nothing to judge
            return None
        lacking = missing_phrases(text, rule.required_phrases)
        met = not lacking
        if lacking:
            what += " lacks " + ", ".join(repr(p) for p in lacking)
    else:
        return None
    start = {
        Event.DOCUMENT: doc.service_start,
        Event.ADMISSION: encounter.admit_at,
        Event.DISCHARGE: encounter.discharge_at,
    }.get(Event(rule.event))
    due = start + timedelta(hours=rule.due_hours) if start is not None else None
    who = _responsible(rule, encounter, author=doc.author_id)
    return Need(rule, f"doc:{doc.id}", what, met, due, who, document_id=doc.id,
                met_by=doc.id if met else None)  # fmt: skip


_KIND_WORDS: dict[str, str] = {
    Kind.SIGNATURE: "Signature",
    Kind.COSIGNATURE: "Co-signature",
    Kind.VERBAL_ORDER: "Verbal order to authenticate",
    Kind.DICTATION: "Dictation to transcribe",
    Kind.INCOMPLETE: "Incomplete",
}


def _responsible(
    rule: DeficiencyRule,
    encounter: Encounter,
    *,
    proc: Proc | None = None,
    author: Any = None,
) -> Any:
    if rule.responsible == Responsible.ADMITTING and encounter.admitting_id:
        return encounter.admitting_id
    if rule.responsible == Responsible.SURGEON and proc and proc.performer_id:
        return proc.performer_id
    if rule.responsible == Responsible.AUTHOR and author is not None:
        return author
    return encounter.attending_id


# --- reconciling ------------------------------------------------------------------------


def _reconcile(
    actor: Actor,
    encounter: Encounter,
    needs: list[Need],
    every: list[Deficiency],
    now: datetime,
) -> AnalysisResult:
    result = AnalysisResult(encounter.pk)
    existing = {(d.rule_id, d.anchor): d for d in every if d.rule_id is not None}
    by_hand = [d.kind for d in every if d.rule_id is None and d.status == Status.OPEN]
    new: list[Deficiency] = []
    events: list[DeficiencyEvent] = []
    who = actor.username

    def change(d: Deficiency, what: str, detail: dict[str, Any], **fields: Any) -> None:
        for key, value in fields.items():
            setattr(d, key, value)
        d.save(update_fields=[*fields, "updated_at"])
        events.append(DeficiencyEvent(deficiency=d, at=now, by=who, what=what,
                                      detail=detail))  # fmt: skip

    seen = list(existing.values())
    for need in needs:
        d = existing.pop((need.rule.pk, need.anchor), None)
        if d is None:
            if not need.met:
                d = Deficiency(
                    encounter=encounter, patient_id=encounter.patient_id,
                    facility_id=encounter.facility_id, kind=need.rule.kind,
                    rule=need.rule, rule_version=need.rule.version, anchor=need.anchor,
                    document_id=need.document_id, description=need.description[:300],
                    provider_id=need.provider_id, assigned_at=now, opened_at=now,
                    due_at=need.due_at, status=Status.OPEN,
                )  # fmt: skip
                new.append(d)
                result.opened.append(d.pk)
            continue
        if d.status == Status.OPEN and need.met:
            change(d, "closed", {"met_by": str(need.met_by)}, status=Status.CLOSED,
                   closed_at=now, reason="")  # fmt: skip
            result.closed.append(d.pk)
        elif d.status == Status.CLOSED and not need.met:
            change(d, "reopened", {"rule_version": need.rule.version},
                   status=Status.OPEN, closed_at=None, due_at=need.due_at,
                   rule_version=need.rule.version, description=need.description[:300])  # fmt: skip
            result.reopened.append(d.pk)
        elif d.status == Status.OPEN and (d.due_at, d.description) != (
            need.due_at,
            need.description[:300],
        ):
            d.due_at, d.description = need.due_at, need.description[:300]
            d.save(update_fields=["due_at", "description", "updated_at"])
    for d in existing.values():  # the rule no longer asks it of this chart
        if d.status == Status.OPEN:
            change(d, "closed", {"why": "no longer required"}, status=Status.CLOSED,
                   closed_at=now, reason="no longer required")  # fmt: skip
            result.closed.append(d.pk)
    if new:
        sqlrows.insert(new)  # plain SQL (kernel.sqlrows): the ORM's INSERT cost more
        events += [DeficiencyEvent(deficiency=d, at=now, by=who, what="opened",
                                   detail={"rule": d.rule.code if d.rule else "",
                                           "rule_version": d.rule_version})
                   for d in new]  # fmt: skip
    if events:
        sqlrows.insert(events)
    # What is open now: the rules' (in hand) and those added by hand.
    still = [d.kind for d in (*new, *seen) if d.status == Status.OPEN]
    still += by_hand
    result.open_by_kind = dict(Counter(still))
    return result
