"""The indexing queue: what an indexer lists, edits and files. Each service checks the
capability and the facility scope, runs in its own transaction and audits itself
(`capture.view`, `capture.edit`, `capture.file`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from recordroom.accounts import permissions
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from recordroom.mpi.models import Patient
from recordroom.mpi.services import in_scope
from recordroom.records.models import Document, DocumentType, Encounter

from .filing import file_capture_document
from .models import (
    BatchStatus,
    CaptureBatch,
    CaptureDocument,
    CaptureDocumentStatus,
    CapturePage,
)
from .quality import CONFIRM_BELOW, doubtful, quality_problems

INDEX = "index_documents"
PAGE_SIZE = 50
OPEN = (CaptureDocumentStatus.QUEUED,)
UNSET: Any = object()


def _require(actor: Actor, capability: str = INDEX) -> None:
    if actor.user is not None:
        permissions.require(actor.user, capability)


def visible_capture_documents(user: Any) -> QuerySet[CaptureDocument]:
    """Captured documents of the user's facilities: the batch's facility, else its
    source's; paper that names no facility at all is every indexer's."""
    qs = CaptureDocument.objects.all()
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return qs
    return qs.filter(
        Q(batch__facility_id__in=scope)
        | Q(batch__facility__isnull=True, batch__source__facility_id__in=scope)
        | Q(batch__facility__isnull=True, batch__source__facility__isnull=True)
    )


def get_capture_document(*, user: Any, capdoc_id: Any) -> CaptureDocument:
    """A captured document in the user's scope (NotFound / PermissionDenied by name)."""
    if user is not None:
        permissions.require(user, INDEX)
    try:
        capdoc = CaptureDocument.objects.select_related(
            "batch", "batch__source", "patient", "encounter", "doc_type"
        ).get(pk=capdoc_id)
    except (CaptureDocument.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise NotFound(f"no captured document with id '{capdoc_id}'") from None
    if not visible_capture_documents(user).filter(pk=capdoc.pk).exists():
        raise PermissionDenied(
            f"captured document {capdoc_id} came in at a facility outside yours"
        )
    return capdoc


# --- the list ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuePage:
    items: list[CaptureDocument]
    next: Any  # the id to pass as `after` for the next page, or None


def list_queue(
    *,
    actor: Actor,
    source: str = "",
    facility: str = "",
    flag: str = "",
    status: str = CaptureDocumentStatus.QUEUED,
    after: Any = None,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """Documents waiting for an indexer, oldest first, keyset-paged on (created_at,
    id): `after` is the last id of the previous page. Filters: source name, facility
    code, a flag ("low-dpi", "skewed", "unreadable", ... or "doubtful")."""
    _require(actor)
    if status not in CaptureDocumentStatus.values:
        raise ValidationFailed(
            f"status is one of {', '.join(CaptureDocumentStatus.values)}, not "
            f"{status[:40]!r}",
            field="status",
        )
    limit = max(1, min(int(limit), 200))
    qs = visible_capture_documents(actor.user).filter(status=status)
    if source:
        qs = qs.filter(batch__source__name=source)
    if facility:
        qs = qs.filter(
            Q(batch__facility__code=facility)
            | Q(batch__facility__isnull=True, batch__source__facility__code=facility)
        )
    if flag == "doubtful":
        qs = qs.filter(
            Q(patient__isnull=True) | Q(patient_confidence__lt=CONFIRM_BELOW)
        )
    elif flag:
        qs = qs.filter(flags__icontains=f'"{flag}"')
    if after:
        last = CaptureDocument.objects.filter(pk=after).values("created_at").first()
        if last is None:
            raise ValidationFailed(
                f"'after' must be a document id from the previous page, got "
                f"{str(after)[:40]!r}",
                field="after",
            )
        qs = qs.filter(
            Q(created_at__gt=last["created_at"])
            | Q(created_at=last["created_at"], pk__gt=after)
        )
    rows = list(
        qs.select_related("batch", "batch__source", "patient", "doc_type")
        .prefetch_related("patient__names")
        .order_by("created_at", "id")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    record(
        actor=actor,
        action=actions.CAPTURE_VIEW.name,
        detail={
            "list": "indexing queue",
            "status": status,
            "documents": len(rows),
            **{
                k: v
                for k, v in (("source", source), ("facility", facility), ("flag", flag))
                if v
            },
        },  # fmt: skip
    )
    return QueuePage(rows, rows[-1].pk if more and rows else None)


def record_view(*, actor: Actor, capdoc: CaptureDocument, part: str) -> None:
    """Audit that a captured document (its pages, its proposal) was shown."""
    record(
        actor=actor,
        action=actions.CAPTURE_VIEW.name,
        patient=capdoc.patient_id,
        obj=capdoc,
        detail={"batch": str(capdoc.batch_id), "part": part},
    )


def batch_pages(capdoc: CaptureDocument) -> dict[int, CapturePage]:
    numbers = [int(p["page"]) for p in capdoc.pages]
    return {
        p.number: p
        for p in CapturePage.objects.filter(
            batch_id=capdoc.batch_id, number__in=numbers
        )
    }


# --- edits ---------------------------------------------------------------------------


def _locked(actor: Actor, capdoc: CaptureDocument) -> CaptureDocument:
    """The row, locked, in the actor's scope and still waiting for an indexer."""
    _require(actor)
    get_capture_document(user=actor.user, capdoc_id=capdoc.pk)
    row = CaptureDocument.objects.select_for_update().get(pk=capdoc.pk)
    if row.status not in OPEN:
        raise Conflict(
            f"this document is {row.get_status_display().lower()}; only a document "
            "waiting for an indexer can be changed"
        )
    return row


def _edited(actor: Actor, capdoc: CaptureDocument, op: str, **detail: Any) -> None:
    record(
        actor=actor,
        action=actions.CAPTURE_EDIT.name,
        patient=capdoc.patient_id,
        obj=capdoc,
        detail={"op": op, "batch": str(capdoc.batch_id),
                "pages": [int(p["page"]) for p in capdoc.pages], **detail},
    )  # fmt: skip


def _position(capdoc: CaptureDocument, position: int) -> int:
    count = len(capdoc.pages)
    if not 1 <= int(position) <= count:
        raise ValidationFailed(
            f"page {position} is not in this document (it has {count})",
            field="position",
        )
    return int(position) - 1


def _values_on(values: list[dict[str, Any]], pages: list[dict[str, Any]]) -> list[Any]:
    numbers = {int(p["page"]) for p in pages}
    return [v for v in values if int(v.get("page", 0)) in numbers]


def split_document(
    *, actor: Actor, capdoc: CaptureDocument, at: int
) -> CaptureDocument:
    """Cut `capdoc` before its page `at` (1-based position): the pages from there on
    become a new document waiting in the queue, with no patient proposed (the values
    read on its pages go with it)."""
    with transaction.atomic():
        row = _locked(actor, capdoc)
        if not 2 <= int(at) <= len(row.pages):
            raise ValidationFailed(
                f"split before a page from 2 to {len(row.pages)}, not {at}",
                field="at",
            )
        head, tail = row.pages[: int(at) - 1], row.pages[int(at) - 1 :]
        new = CaptureDocument.objects.create(
            batch_id=row.batch_id,
            pages=tail,
            status=CaptureDocumentStatus.QUEUED,
            values=_values_on(row.values, tail),
            queue_reasons=[f"split from another document by {actor.username}"],
            flags=list(row.flags),
        )
        row.pages = head
        row.values = _values_on(row.values, head)
        row.save(update_fields=["pages", "values"])
        _edited(actor, row, "split", at=int(at), new=str(new.pk),
                new_pages=[int(p["page"]) for p in tail])  # fmt: skip
    return new


def merge_documents(
    *, actor: Actor, first: CaptureDocument, second: CaptureDocument
) -> CaptureDocument:
    """Append `second`'s pages to `first` (two documents of one batch); `second` is
    gone, its pages and values now `first`'s."""
    if first.pk == second.pk:
        raise ValidationFailed(
            "choose two different documents to merge", field="second"
        )
    with transaction.atomic():
        a = _locked(actor, first)
        b = _locked(actor, second)
        if a.batch_id != b.batch_id:
            raise ValidationFailed(
                "only documents of the same batch can be merged", field="second"
            )
        a.pages = [*a.pages, *b.pages]
        a.values = [*a.values, *b.values]
        a.flags = sorted({*a.flags, *b.flags})
        a.save(update_fields=["pages", "values", "flags"])
        _edited(actor, a, "merge", merged=str(b.pk),
                merged_pages=[int(p["page"]) for p in b.pages])  # fmt: skip
        b.delete()
    return a


def reorder_pages(
    *, actor: Actor, capdoc: CaptureDocument, order: list[int]
) -> CaptureDocument:
    """Put the pages in a new order: `order` lists the current positions (1-based)
    in the order wanted, each once."""
    with transaction.atomic():
        row = _locked(actor, capdoc)
        wanted = [int(x) for x in order]
        if sorted(wanted) != list(range(1, len(row.pages) + 1)):
            raise ValidationFailed(
                f"give each position from 1 to {len(row.pages)} once, not {wanted}",
                field="order",
            )
        row.pages = [row.pages[i - 1] for i in wanted]
        row.save(update_fields=["pages"])
        _edited(actor, row, "reorder", order=wanted)
    return row


def move_page(
    *, actor: Actor, capdoc: CaptureDocument, position: int, by: int
) -> CaptureDocument:
    """Move one page earlier (`by` < 0) or later (`by` > 0)."""
    count = len(capdoc.pages)
    i = _position(capdoc, position)
    j = max(0, min(count - 1, i + int(by)))
    order = list(range(1, count + 1))
    order.insert(j, order.pop(i))
    return reorder_pages(actor=actor, capdoc=capdoc, order=order)


def rotate_page(
    *, actor: Actor, capdoc: CaptureDocument, position: int, turns: int = 1
) -> CaptureDocument:
    """Turn one page by quarter turns, clockwise (negative: anticlockwise)."""
    with transaction.atomic():
        row = _locked(actor, capdoc)
        i = _position(row, position)
        item = dict(row.pages[i])
        item["rotate"] = (int(item.get("rotate", 0)) + 90 * int(turns)) % 360
        row.pages = [*row.pages[:i], item, *row.pages[i + 1 :]]
        row.save(update_fields=["pages"])
        _edited(actor, row, "rotate", position=i + 1, rotate=item["rotate"])
    return row


def remove_page(
    *, actor: Actor, capdoc: CaptureDocument, position: int
) -> CaptureDocument:
    """Take a page out (a blank back, a fax cover): it stays with the batch as a
    removed document that can be restored. Removing a document's only page removes
    the document. Returns the removed row."""
    with transaction.atomic():
        row = _locked(actor, capdoc)
        i = _position(row, position)
        if len(row.pages) == 1:
            row.status = CaptureDocumentStatus.REMOVED
            row.decided_by = actor.username
            row.decided_at = timezone.now()
            row.save(update_fields=["status", "decided_by", "decided_at"])
            _edited(actor, row, "remove", position=1, whole=True)
            _settle(row.batch_id)
            return row
        page = row.pages[i]
        removed = CaptureDocument.objects.create(
            batch_id=row.batch_id,
            pages=[page],
            status=CaptureDocumentStatus.REMOVED,
            evidence={"removed_from": str(row.pk), "position": i + 1},
            decided_by=actor.username,
            decided_at=timezone.now(),
        )
        row.pages = [*row.pages[:i], *row.pages[i + 1 :]]
        row.values = _values_on(row.values, row.pages)
        row.save(update_fields=["pages", "values"])
        _edited(actor, row, "remove", position=i + 1, page=int(page["page"]),
                removed=str(removed.pk))  # fmt: skip
    return removed


def restore(*, actor: Actor, removed: CaptureDocument) -> CaptureDocument:
    """Bring back a removed page or document: into the document it was taken from
    (where it was) if that still waits, else as a document of its own."""
    _require(actor)
    get_capture_document(user=actor.user, capdoc_id=removed.pk)
    with transaction.atomic():
        row = CaptureDocument.objects.select_for_update().get(pk=removed.pk)
        if row.status != CaptureDocumentStatus.REMOVED:
            raise Conflict("only a removed page or document can be restored")
        origin_id = row.evidence.get("removed_from")
        origin = (
            CaptureDocument.objects.select_for_update()
            .filter(pk=origin_id, status__in=OPEN)
            .first()
            if origin_id
            else None
        )
        if origin is not None:
            at = max(0, min(len(origin.pages), int(row.evidence["position"]) - 1))
            origin.pages = [*origin.pages[:at], *row.pages, *origin.pages[at:]]
            origin.save(update_fields=["pages"])
            _edited(actor, origin, "restore", restored=str(row.pk), position=at + 1)
            row.delete()
            result = origin
        else:
            row.status = CaptureDocumentStatus.QUEUED
            row.decided_by, row.decided_at = "", None
            row.save(update_fields=["status", "decided_by", "decided_at"])
            _edited(actor, row, "restore")
            result = row
        CaptureBatch.objects.filter(pk=row.batch_id, status=BatchStatus.DONE).update(
            status=BatchStatus.INDEXING, finished_at=None
        )
    return result


def split_sections(
    *, actor: Actor, batch: CaptureBatch, starts: list[int]
) -> list[CaptureDocument]:
    """One document per section of a batch: every page still waiting in the batch
    (in batch order), cut before each page number in `starts`. The documents it
    replaces are gone; filed and removed ones are left alone."""
    _require(actor)
    with transaction.atomic():
        waiting = list(
            CaptureDocument.objects.select_for_update()
            .filter(batch=batch, status__in=OPEN)
            .order_by("created_at", "id")
        )
        for row in waiting:  # scope, once per document
            get_capture_document(user=actor.user, capdoc_id=row.pk)
        pages = sorted((p for row in waiting for p in row.pages),
                       key=lambda p: int(p["page"]))  # fmt: skip
        numbers = [int(p["page"]) for p in pages]
        cuts = sorted({int(s) for s in starts} | ({numbers[0]} if numbers else set()))
        unknown = [s for s in cuts if s not in numbers]
        if not pages or unknown:
            raise ValidationFailed(
                f"sections start at pages still waiting in this batch "
                f"({', '.join(map(str, numbers)) or 'none'}), not {unknown}",
                field="starts",
            )
        values = [v for row in waiting for v in row.values]
        made: list[CaptureDocument] = []
        for k, start in enumerate(cuts):
            end = cuts[k + 1] if k + 1 < len(cuts) else None
            part = [p for p in pages
                    if int(p["page"]) >= start and (end is None or int(p["page"]) < end)]  # fmt: skip
            made.append(CaptureDocument.objects.create(
                batch=batch, pages=part, status=CaptureDocumentStatus.QUEUED,
                values=_values_on(values, part),
                queue_reasons=[f"sectioned by {actor.username}"],
            ))  # fmt: skip
        record(
            actor=actor,
            action=actions.CAPTURE_EDIT.name,
            obj=batch,
            detail={"op": "sections", "starts": cuts,
                    "replaced": [str(r.pk) for r in waiting],
                    "documents": [str(d.pk) for d in made]},
        )  # fmt: skip
        for row in waiting:
            row.delete()
    return made


def assign(
    *,
    actor: Actor,
    capdoc: CaptureDocument,
    patient: Patient | None = UNSET,
    encounter: Encounter | None = UNSET,
    doc_type: DocumentType | None = UNSET,
    service_date: date | None = UNSET,
) -> CaptureDocument:
    """Set what the document is: the patient (chosen by the indexer: that is the
    confirmation a doubtful proposal needs), the visit, the type, the date of
    service. Only the arguments given change; choosing another patient clears a
    visit of the previous one."""
    with transaction.atomic():
        row = _locked(actor, capdoc)
        changed: dict[str, Any] = {}
        if patient is not UNSET:
            if patient is not None and not in_scope(actor.user, patient):
                raise PermissionDenied(
                    "that patient has no record at your facilities", field="patient"
                )
            if (patient.pk if patient else None) != row.patient_id:
                row.patient = patient
                row.patient_confidence = 1.0 if patient is not None else 0.0
                row.evidence = {**row.evidence,
                                "patient": [f"chosen by {actor.username}"]}  # fmt: skip
                if row.encounter is not None and row.encounter.patient_id != (
                    patient.pk if patient else None
                ):
                    row.encounter = None
                changed["patient"] = str(patient.pk) if patient else None
        if encounter is not UNSET:
            if encounter is not None and encounter.patient_id != row.patient_id:
                raise ValidationFailed(
                    f"visit {encounter.account_number} is not this patient's",
                    field="encounter",
                )
            row.encounter = encounter
            changed["encounter"] = str(encounter.pk) if encounter else None
            if (
                encounter is not None
                and row.service_date is None
                and encounter.admit_at
            ):
                row.service_date = timezone.localdate(encounter.admit_at)
        if doc_type is not UNSET:
            row.doc_type = doc_type
            row.type_confidence = 1.0 if doc_type is not None else 0.0
            changed["type"] = doc_type.code if doc_type else None
        if service_date is not UNSET:
            row.service_date = service_date
            changed["service_date"] = str(service_date or "")
        row.save()
        _edited(actor, row, "assign", **changed)
    return row


def file(
    *,
    actor: Actor,
    capdoc: CaptureDocument,
    confirm_patient: bool = False,
    confirm_quality: bool = False,
) -> Document:
    """File the document as it now stands. A doubtful patient (not chosen by the
    indexer, confidence below CONFIRM_BELOW) needs `confirm_patient`; pages the
    checks flag (page count against the cover sheet, unreadable, skewed, low
    resolution) need `confirm_quality`. Both confirmations are audited."""
    _require(actor)
    row = get_capture_document(user=actor.user, capdoc_id=capdoc.pk)
    if row.status != CaptureDocumentStatus.QUEUED:
        raise Conflict(f"this document is {row.get_status_display().lower()}")
    if row.patient is None:
        raise ValidationFailed("choose the patient this document belongs to",
                               field="patient")  # fmt: skip
    if row.doc_type is None:
        raise ValidationFailed("choose the document type", field="doc_type")
    if not in_scope(actor.user, row.patient):
        raise PermissionDenied("that patient has no record at your facilities",
                               field="patient")  # fmt: skip
    if doubtful(row) and not confirm_patient:
        legal = row.patient.legal_name()
        raise ValidationFailed(
            f"the patient was proposed with confidence {row.patient_confidence:.2f}: "
            f"check the pages name {legal.display if legal else 'this patient'} "
            "and confirm the patient before filing",
            field="confirm_patient",
        )
    problems = quality_problems(row, batch_pages(row))
    if problems and not confirm_quality:
        raise ValidationFailed(
            "check the pages before filing: " + "; ".join(problems)
            + ". Confirm to file anyway.",
            field="confirm_quality",
        )  # fmt: skip
    with transaction.atomic():
        if confirm_patient or problems:
            _edited(actor, row, "confirm", patient=str(row.patient_id),
                    patient_confirmed=bool(confirm_patient),
                    quality_confirmed=problems)  # fmt: skip
        doc = file_capture_document(
            actor=actor,
            capdoc=row,
            patient=row.patient,
            doc_type=row.doc_type,
            encounter=row.encounter,
            service_date=row.service_date,
        )
        _settle(row.batch_id)
    return doc


def _settle(batch_id: Any) -> None:
    """A batch whose documents are all filed or removed is done."""
    waiting = CaptureDocument.objects.filter(
        batch_id=batch_id,
        status__in=(CaptureDocumentStatus.PENDING, CaptureDocumentStatus.QUEUED),
    ).exists()
    if not waiting:
        CaptureBatch.objects.filter(pk=batch_id, status=BatchStatus.INDEXING).update(
            status=BatchStatus.DONE, finished_at=timezone.now()
        )
