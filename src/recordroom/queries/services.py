"""Query services: raising a query from a visit's chart with its indicators, refused
when the wording leads (R-QRY-1 to R-QRY-4); delivering it as a "query pending"
deficiency (completion); the provider's answer filed and signed in the record
(R-QRY-5); withdrawal, escalation of unanswered queries, the specialist's agreement
call; and the reads (a provider's open queries, a chart's queries, the worklist).
Each write is audited in its own transaction (DESIGN.md rule 3)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from pypdf import PdfReader, PdfWriter

from recordroom.audit.services import record
from recordroom.completion import services as completion
from recordroom.completion.models import Kind
from recordroom.completion.models import Status as DeficiencyStatus
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from recordroom.mpi.models import IdentifierKind
from recordroom.records import services as records
from recordroom.records.access import require_document, require_result
from recordroom.records.fulltext import index_version
from recordroom.records.models import (
    Document,
    DocumentType,
    DocumentVersion,
    Encounter,
    PageText,
    Provider,
    ResultObservation,
    VersionKind,
)
from recordroom.records.result_models import IMAGING_SECTIONS
from recordroom.records.text_models import VersionText

from . import answerpdf, wording
from .models import (
    Format,
    IndicatorKind,
    Purpose,
    Query,
    QueryIndicator,
    QueryTemplate,
    Status,
    YesNoGround,
)

# The document type of a response filed as its own document (seeded by migration 0002).
RESPONSE_TYPE = "QRYRESP"
GROUNDS = [g for g in YesNoGround.values if g]
# LOINC vital signs (the panel's members): an observation with one of these is a vital.
VITALS = frozenset({"8867-4", "8480-6", "8462-4", "8310-5", "9279-1", "59408-5",
                    "2708-6", "29463-7", "8302-2", "39156-5", "85354-9", "8478-0"})  # fmt: skip


def escalation_days() -> tuple[int, ...]:
    return tuple(settings.QUERY_ESCALATION_DAYS)


@dataclass(frozen=True)
class IndicatorIn:
    """One indicator to quote: a result value (`observation_id`), or a span of a
    document's text (`document_id`, the version's number, the words `quote`)."""

    kind: str = ""
    observation_id: Any = None
    document_id: Any = None
    version: int | None = None
    quote: str = ""
    label: str = ""


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _check_scope(actor: Actor, facility_id: Any) -> None:
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is not None and facility_id not in scope:
        raise PermissionDenied("that visit is at a facility outside your facilities")


def _observation(actor: Actor, enc: Encounter, item: IndicatorIn,
                 pos: int) -> QueryIndicator:  # fmt: skip
    obs = (ResultObservation.objects.select_related("report", "report__facility")
           .filter(pk=item.observation_id).first())  # fmt: skip
    if obs is None or obs.report.patient_id != enc.patient_id:
        raise ValidationFailed(f"indicator {pos}: no result {item.observation_id} in "
                               "this patient's record", field="indicators")  # fmt: skip
    report = obs.report
    require_result(actor.user, report)  # its labels: the author may read it
    when = obs.effective_at or report.effective_at or report.issued_at
    if when is None:
        raise ValidationFailed(f"indicator {pos}: the result has no date; quote "
                               "another", field="indicators")  # fmt: skip
    kind = item.kind or (
        IndicatorKind.VITAL if obs.code in VITALS
        else IndicatorKind.IMAGING if report.category in IMAGING_SECTIONS
        else IndicatorKind.LAB)  # fmt: skip
    name = report.display or report.text or report.code or "Result"
    return QueryIndicator(
        position=pos, kind=kind,
        label=(item.label or obs.display or obs.text or obs.code)[:200],
        value=obs.value_display(), units=obs.units,
        reference_range=obs.reference_range,
        flags=",".join(f for f in obs.abnormal_flags if f)[:40], effective_at=when,
        source=f"{name} ({report.get_category_display()}), "
               f"{report.performer_name or report.facility.name}"[:300],
        observation=obs, prior_encounter=report.encounter_id != enc.pk)  # fmt: skip


def _page_texts(version: DocumentVersion) -> list[PageText]:
    if not VersionText.objects.filter(version=version).exists():
        index_version(version)  # not read yet by the worker: read it now
    return list(PageText.objects.filter(version=version).order_by("page"))


def document_text(version: DocumentVersion, *, read_now: bool = True) -> str:
    """A version's text, pages separated by a blank line, for the author to quote
    from; read now when the worker has not (`read_now`: not for scans, whose OCR
    the worker does)."""
    if read_now:
        pages = _page_texts(version)
    else:
        pages = list(PageText.objects.filter(version=version).order_by("page"))
    return "\n\n".join(p.text for p in pages)


def _span(actor: Actor, enc: Encounter, item: IndicatorIn, pos: int) -> QueryIndicator:
    doc = (Document.objects.select_related("doc_type").filter(
        pk=item.document_id, patient_id=enc.patient_id).first()
        if item.document_id else None)  # fmt: skip
    if doc is None:
        raise ValidationFailed(f"indicator {pos}: no document {item.document_id} in "
                               "this patient's record", field="indicators")  # fmt: skip
    require_document(actor.user, doc)  # its labels: the author may read it
    version = (doc.versions.filter(number=item.version).first()
               if item.version else records.current_version(doc))  # fmt: skip
    if version is None:
        raise ValidationFailed(f"indicator {pos}: the document has no version "
                               f"{item.version}", field="indicators")  # fmt: skip
    quote = re.sub(r"\s+", " ", item.quote).strip()
    if len(quote) < 3:
        raise ValidationFailed(f"indicator {pos}: select the words to quote from the "
                               "document", field="indicators")  # fmt: skip
    page = next((p.page for p in _page_texts(version)
                 if _norm(quote) in _norm(p.text)), None)  # fmt: skip
    if page is None:
        raise ValidationFailed(
            f"indicator {pos}: \u201c{quote[:60]}\u201d is not in "
            f"{doc.title or doc.doc_type.display} version {version.number}; quote the "
            "record's words exactly", field="indicators")  # fmt: skip
    kind = item.kind or IndicatorKind.FINDING
    if kind not in IndicatorKind.values:
        raise ValidationFailed(f"indicator {pos}: unknown kind {kind!r}; use one of "
                               + ", ".join(IndicatorKind.values), field="indicators")  # fmt: skip
    title = doc.title or doc.doc_type.display
    return QueryIndicator(
        position=pos, kind=kind, label=(item.label or title)[:200], value=quote,
        effective_at=doc.service_start,
        source=f"{title}, version {version.number}, page {page}"[:300],
        document=doc, version=version, page=page,
        prior_encounter=doc.encounter_id != enc.pk)  # fmt: skip


def build_indicators(actor: Actor, enc: Encounter,
                     items: Sequence[IndicatorIn]) -> list[QueryIndicator]:  # fmt: skip
    out = []
    for pos, item in enumerate(items, start=1):
        if item.observation_id:
            out.append(_observation(actor, enc, item, pos))
        else:
            out.append(_span(actor, enc, item, pos))
    return out


def _next_number(year: int) -> str:
    prefix = f"QRY-{year}-"
    last = (Query.objects.filter(number__startswith=prefix)
            .order_by("-number").values_list("number", flat=True).first())  # fmt: skip
    return f"{prefix}{int(last.removeprefix(prefix)) + 1 if last else 1:06d}"


def check_wording(*, format: str, purpose: str, question: str, options: Sequence[str],
                  yes_no_ground: str, indicators: Sequence[QueryIndicator]) -> None:  # fmt: skip
    """Refuse a query that leads, pressures, names money or asks yes/no for a new
    diagnosis: ValidationFailed listing every problem with its rule ID."""
    found = wording.problems(
        format=format, purpose=purpose, question=question, options=options,
        yes_no_ground=yes_no_ground, indicators=len(indicators),
        documentation_indicators=sum(1 for i in indicators if i.document_id),
        purposes=Purpose.values, grounds=GROUNDS)  # fmt: skip
    if found:
        raise ValidationFailed("; ".join(str(p) for p in found), field=found[0].field)


def raise_query(
    *,
    actor: Actor,
    encounter: Encounter,
    provider: Provider,
    question: str,
    indicators: Sequence[IndicatorIn],
    format: str = Format.OPEN,
    purpose: str = "",
    options: Sequence[str] = (),
    yes_no_ground: str = "",
    template: QueryTemplate | None = None,
    document: Document | None = None,
    verbal: bool = False,
) -> Query:
    """Send a query to `provider` about `encounter`, quoting `indicators` (R-QRY-2);
    refused, with every reason and its rule ID, when the wording does not comply
    (R-QRY-1, 3, 4). Opens a "query pending" deficiency assigned to the provider.

    Raises:
        ValidationFailed: the wording, an indicator, or a missing field (named).
        PermissionDenied: the visit is outside the actor's facilities.
    """
    _check_scope(actor, encounter.facility_id)
    if template is not None:
        format = format or template.format
        purpose = purpose or template.purpose
    format = format or Format.OPEN  # the preferred format (R-QRY-4)
    if document is not None and document.patient_id != encounter.patient_id:
        raise ValidationFailed("the document is not in this patient's record",
                               field="document")  # fmt: skip
    if format != Format.YES_NO:
        yes_no_ground = ""
    built = build_indicators(actor, encounter, indicators)
    clinical = [o.strip() for o in options if o.strip()]
    check_wording(format=format, purpose=purpose, question=question, options=clinical,
                  yes_no_ground=yes_no_ground, indicators=built)  # fmt: skip
    user = actor.user
    name = (user.get_full_name() or user.username) if user is not None else actor.username
    now = timezone.now()
    due = now + timedelta(days=escalation_days()[-1])
    for _ in range(5):  # two desks at once: take the next number
        try:
            with transaction.atomic():
                query = Query.objects.create(
                    number=_next_number(now.year), patient_id=encounter.patient_id,
                    encounter=encounter, facility_id=encounter.facility_id,
                    provider=provider, document=document, template=template,
                    template_version=template.version if template else None,
                    format=format, purpose=purpose, yes_no_ground=yes_no_ground,
                    question=question.strip(),
                    options=wording.offered(format, clinical), verbal=verbal,
                    raised_at=now, raised_by=actor.username, raised_by_name=name,
                    due_at=due)  # fmt: skip
                for ind in built:
                    ind.query = query
                QueryIndicator.objects.bulk_create(built)
                record(actor=actor, action=actions.QUERY_RAISE.name,
                       patient=encounter.patient_id, obj=query,
                       detail={"number": query.number, "format": format,
                               "purpose": purpose, "provider": str(provider.pk),
                               "template": template.code if template else "",
                               "indicators": len(built), "verbal": verbal,
                               "account": encounter.account_number})  # fmt: skip
                # delivered: the provider's deficiencies show it (completion)
                query.deficiency = completion.add_deficiency(
                    actor=actor, encounter=encounter, kind=Kind.QUERY,
                    description=f"Query {query.number}: {query.question}"[:300],
                    provider=provider, document=document if document and
                    document.encounter_id == encounter.pk else None,
                    due_days=escalation_days()[-1])  # fmt: skip
                query.save(update_fields=["deficiency"])
            return query
        except IntegrityError:
            continue
    raise ValidationFailed("could not number the query; try again", field="number")


def from_template(template: QueryTemplate) -> dict[str, Any]:
    """What a form starts from: the template's format, purpose, question; its options
    as a menu, none chosen (R-QRY-5)."""
    return {"format": template.format, "purpose": template.purpose,
            "question": template.question, "menu": list(template.options),
            "yes_no_ground": template.yes_no_ground}  # fmt: skip


# --- reads -----------------------------------------------------------------------------


def visible(user: Any) -> QuerySet[Query]:
    scope = user.facility_ids() if user is not None else None
    qs = Query.objects.select_related("provider", "encounter", "facility", "template")
    return qs if scope is None else qs.filter(facility_id__in=scope)


def get_query(*, user: Any, query_id: Any) -> Query:
    try:
        q = visible(user).get(pk=query_id)
    except Exception:  # a malformed id and a missing row both mean: no such query
        raise NotFound(f"no query {query_id}") from None
    return q


def my_provider(user: Any) -> Provider:
    pk = getattr(user, "pk", None)
    found = Provider.objects.filter(user_id=pk).first() if pk is not None else None
    if found is None:
        raise NotFound("your account is not linked to a provider")
    return found


def open_queries_for(provider: Provider) -> QuerySet[Query]:
    """A provider's open queries, oldest first (the provider's inbox lists them)."""
    return (Query.objects.filter(provider=provider, status=Status.OPEN)
            .select_related("encounter", "facility", "template")
            .order_by("raised_at", "number"))  # fmt: skip


def open_count_for(provider: Provider) -> int:
    return Query.objects.filter(provider=provider, status=Status.OPEN).count()


def queries_of_patient(*, user: Any, patient_id: Any) -> list[Query]:
    """A chart's queries, newest first (the chart shows them)."""
    return list(visible(user).filter(patient_id=patient_id).order_by("-raised_at"))


def worklist(*, user: Any, status: str = "", provider: Any = None,
             overdue: bool = False, limit: int = 500) -> list[Query]:  # fmt: skip
    """Queries oldest first: open ones unless a status is named."""
    qs = visible(user)
    if status:
        if status not in Status.values:
            raise ValidationFailed(f"unknown status {status!r}; use one of "
                                   + ", ".join(Status.values), field="status")  # fmt: skip
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status=Status.OPEN)
    if provider:
        qs = qs.filter(provider_id=provider)
    if overdue:
        qs = qs.filter(status=Status.OPEN, due_at__lt=timezone.now())
    return list(qs.order_by("raised_at", "number")[: max(1, min(limit, 2000))])


# --- the provider's answer -------------------------------------------------------------


def _open(query: Query, step: str) -> None:
    if not query.is_open:
        raise Conflict(f"query {query.number} is {query.get_status_display().lower()}; "
                       f"it cannot be {step}")  # fmt: skip


def _response_type() -> DocumentType:
    found = DocumentType.objects.filter(code=RESPONSE_TYPE).first()
    if found is None:
        raise NotFound(f"the document type {RESPONSE_TYPE} (query response) is missing; "
                       "run `recordroom init`")  # fmt: skip
    return found


def answer_query(
    *,
    actor: Actor,
    query: Query,
    answer: str = "",
    answer_text: str = "",
    comment: str = "",
    as_addendum: bool = False,
    at: datetime | None = None,
) -> Query:
    """The provider answers: the query and the answer are filed in the record as a new
    "Provider query response" document, or as an addendum to the document queried,
    and signed by the provider over the exact version (R-QRY-5, R-RC-1); the
    query-pending deficiency closes.

    Raises:
        PermissionDenied: the actor is not the provider queried.
        ValidationFailed: no answer, an answer not offered, "other" without words.
        Conflict: the query is not open.

    `at` is when the answer was given (default now; the demo gives its own).
    """
    _open(query, "answered")
    if at is not None and not query.raised_at <= at <= timezone.now():
        raise ValidationFailed("the answer's time must lie between the query and now",
                               field="at")  # fmt: skip
    provider = query.provider
    if actor.user is not None and provider.user_id != actor.user.pk:
        raise PermissionDenied(f"query {query.number} is addressed to {provider}, "
                               "not to you")  # fmt: skip
    answer, answer_text, comment = answer.strip(), answer_text.strip(), comment.strip()
    if query.format == Format.OPEN:
        if not answer_text:
            raise ValidationFailed("write your answer", field="answer_text")
        answer = ""
        line = answer_text
    else:
        if answer not in query.options:
            raise ValidationFailed("choose one of the answers offered: "
                                   + "; ".join(query.options), field="answer")  # fmt: skip
        if answer == wording.OTHER and not answer_text:
            raise ValidationFailed("say what, in your words, for \u201cOther\u201d",
                                   field="answer_text")  # fmt: skip
        line = f"{answer}: {answer_text}" if answer == wording.OTHER else answer
        if answer != wording.OTHER and answer_text:
            line += f" \u2014 {answer_text}"
    target = query.document if as_addendum else None
    if as_addendum and target is None:
        raise ValidationFailed("this query names no document to add an addendum to; "
                               "file the answer as its own document",
                               field="as_addendum")  # fmt: skip
    # one transaction: the document, its signature, the query and its deficiency, so
    # that a failure leaves nothing half filed and two answers cannot both pass
    with transaction.atomic():
        locked = Query.objects.select_for_update().get(pk=query.pk)
        _open(locked, "answered")
        now = at or timezone.now()
        locked.answered_at, locked.comment = now, comment
        name = locked.patient.legal_name()
        mrns = locked.patient.identifiers.filter(kind=IdentifierKind.MRN)
        mrn = mrns.filter(facility_id=locked.facility_id).first() or mrns.first()
        page = answerpdf.render(locked, name.display if name else "(no name)",
                                mrn.value if mrn else "", line)  # fmt: skip
        reason = f"answer to query {locked.number}"
        if target is not None:
            version = records.add_version(
                actor=actor, document=target, kind=VersionKind.ADDENDUM,
                data=_append_page(target, page),
                filename=f"{locked.number}-response.pdf", media_type="application/pdf",
                reason=reason)  # fmt: skip
            doc = target
        else:
            doc = records.file_document(
                actor=actor, patient=locked.patient, doc_type=_response_type(),
                data=page, filename=f"{locked.number}-response.pdf",
                media_type="application/pdf", encounter=locked.encounter,
                author=provider, title=f"Query response {locked.number}")  # fmt: skip
            version = records.current_version(doc)
        signature = records.sign_version(actor=actor, version=version, signer=provider)
        locked.status, locked.answer, locked.answer_text = (
            Status.ANSWERED, answer, answer_text)  # fmt: skip
        locked.answered_by = actor.username
        locked.agreed = wording.agreement(locked.format, answer)
        locked.answer_document, locked.answer_version = doc, version
        locked.answer_signature = signature
        locked.save()
        record(actor=actor, action=actions.QUERY_ANSWER.name, patient=locked.patient_id,
               obj=locked, detail={"number": locked.number, "answer": answer,
                                   "document": str(doc.pk), "version": version.number,
                                   "addendum": target is not None,
                                   "hours": locked.hours_to_answer})  # fmt: skip
        _close_deficiency(actor, locked, f"query {locked.number} answered")
    return locked


def _append_page(doc: Document, page: bytes) -> bytes:
    current = records.current_version(doc)
    if current.media_type != "application/pdf":
        return page
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(default_store().get(current.sha256))))
    writer.append(PdfReader(io.BytesIO(page)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _close_deficiency(actor: Actor, query: Query, reason: str) -> None:
    d = query.deficiency
    if d is not None and d.status == DeficiencyStatus.OPEN:
        completion.close_deficiency(actor=actor, deficiency=d, reason=reason,
                                    action=actions.QUERY_DEFICIENCY.name)  # fmt: skip


# --- the specialist's steps ------------------------------------------------------------


def withdraw_query(*, actor: Actor, query: Query, reason: str) -> Query:
    """Withdraw an open query (e.g. the provider documented it meanwhile); its
    deficiency is waived with the same reason. Kept, with the reason (R-QRY-5)."""
    _check_scope(actor, query.facility_id)
    _open(query, "withdrawn")
    if not reason.strip():
        raise ValidationFailed("say why the query is withdrawn", field="reason")
    with transaction.atomic():
        query.status, query.withdrawn_reason = Status.WITHDRAWN, reason.strip()[:300]
        query.save(update_fields=["status", "withdrawn_reason", "updated_at"])
        record(actor=actor, action=actions.QUERY_UPDATE.name, patient=query.patient_id,
               obj=query, detail={"step": "withdraw", "reason": query.withdrawn_reason})  # fmt: skip
    d = query.deficiency
    if d is not None and d.status == DeficiencyStatus.OPEN:
        completion.waive_deficiency(actor=actor, deficiency=d,
                                    reason=f"query {query.number} withdrawn: {reason}")  # fmt: skip
    return query


def record_agreement(*, actor: Actor, query: Query, agreed: bool) -> Query:
    """The specialist's call on an open-ended or "other" answer: did the provider
    document a clarification? (Multiple choice and yes/no are judged from the answer.)"""
    _check_scope(actor, query.facility_id)
    if query.status != Status.ANSWERED:
        raise Conflict(f"query {query.number} has not been answered")
    with transaction.atomic():
        query.agreed = agreed
        query.save(update_fields=["agreed", "updated_at"])
        record(actor=actor, action=actions.QUERY_UPDATE.name, patient=query.patient_id,
               obj=query, detail={"step": "agreement", "agreed": agreed})  # fmt: skip
    return query


def escalate_due(*, actor: Actor, now: datetime | None = None) -> list[Query]:
    """The escalation policy (R-QRY-5): an open query unanswered for the first of
    QUERY_ESCALATION_DAYS reaches level 1 (a reminder), the next level 2 (the
    physician advisor), and so on. Returns the queries escalated now."""
    now = now or timezone.now()
    levels = escalation_days()
    out = []
    for query in Query.objects.filter(status=Status.OPEN).order_by("raised_at"):
        age = (now - query.raised_at).total_seconds() / 86400
        level = sum(1 for days in levels if age >= days)
        if level <= query.escalation_level:
            continue
        with transaction.atomic():
            query.escalation_level, query.escalated_at = level, now
            query.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
            record(actor=actor, action=actions.QUERY_UPDATE.name,
                   patient=query.patient_id, obj=query,
                   detail={"step": "escalate", "level": level,
                           "days": round(age, 1)})  # fmt: skip
        out.append(query)
    return out


ESCALATION_LABELS = {0: "", 1: "Reminder sent", 2: "Escalated to the physician advisor"}


def escalation_label(level: int) -> str:
    return ESCALATION_LABELS.get(level, f"Escalation level {level}")
