"""Scoping a request (minimum necessary, R-MIN-1): the documents asked for, each
included or left out with the reason, so that the specialist sees both."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import ValidationFailed
from recordroom.records.models import Document, DocumentStatus, DocumentVersion
from recordroom.records.services import visible_documents

from . import authorizations, pdfs
from .models import ReleaseItem, ReleaseRequest, Status
from .requests import refuse
from .results import select_results

MANUAL = "manual"  # the rule of an item the specialist left out by hand
# Scoping, redaction and packets work on a request that is still being worked.
WORKABLE = (Status.RECEIVED, Status.PENDING, Status.IN_PROGRESS,
            Status.QUALITY_REVIEW, Status.READY)  # fmt: skip


def check_workable(actor: Actor, req: ReleaseRequest, step: str) -> None:
    """Refuse (audited) work on a request that is closed."""
    if req.status not in WORKABLE:
        reason = (f"request {req.number} is {req.get_status_display().lower()}; "
                  f"nothing can be changed ({step})")  # fmt: skip
        refuse(actor, req, step, reason)
        raise ValidationFailed(reason, field="status")


def reopen(req: ReleaseRequest) -> None:
    """A change to what goes out makes a built packet and its review stale: the
    request goes back to work (a new packet and review are needed)."""
    if req.status in (Status.RECEIVED, Status.QUALITY_REVIEW, Status.READY):
        req.status = Status.IN_PROGRESS
        req.save(update_fields=["status", "updated_at"])


def asked_for(req: ReleaseRequest, user: Any) -> QuerySet[Document]:
    """The documents the request asks for: the patient's, at the request's facility
    and in the user's scope, in the date range (service period overlapping it, in the
    facility's time zone), among the encounters and of the types asked for (each
    criterion given narrows the set), or everything for the entire record. Documents
    entered in error are not part of the record released."""
    qs = visible_documents(user).filter(patient=req.patient, facility=req.facility)
    qs = qs.exclude(status=DocumentStatus.ENTERED_IN_ERROR)
    if req.entire_record:
        return qs
    if req.date_from:
        start = clock.start_of_day(req.date_from, req.facility)
        qs = qs.filter(Q(service_end__gte=start) | Q(service_end__isnull=True,
                                                     service_start__gte=start))  # fmt: skip
    if req.date_to:
        qs = qs.filter(
            service_start__lt=clock.start_of_day(
                clock.add_days(req.date_to, 1), req.facility
            )
        )
    encounter_ids = list(req.encounters.values_list("pk", flat=True))
    if encounter_ids:
        qs = qs.filter(encounter_id__in=encounter_ids)
    if req.document_types:
        qs = qs.filter(doc_type__code__in=req.document_types)
    return qs


def document_labels(doc: Document) -> list[str]:
    """The document's sensitivity labels with its encounter's (a note written in a
    Part 2 program's encounter is a Part 2 record, R-P2-1)."""
    labels = set(doc.sensitivity or [])
    if doc.encounter_id and doc.encounter is not None:
        labels |= set(doc.encounter.sensitivity or [])
    return sorted(labels)


def latest_versions(docs: list[Document]) -> dict[Any, DocumentVersion]:
    latest: dict[Any, DocumentVersion] = {}
    for v in DocumentVersion.objects.filter(document__in=docs).order_by("number"):
        latest[v.document_id] = v
    return latest


def version_pdf(version: DocumentVersion) -> bytes:
    """The verified bytes of a version as PDF pages (images and text converted)."""
    return pdfs.to_pdf(default_store().get(version.sha256), version.media_type)


def select_documents(*, actor: Actor, req: ReleaseRequest) -> list[ReleaseItem]:
    """Select what the request asks for, current versions only; every document goes
    through the basis's gate (R-PN-2/3, R-P2-5/6, R-STATE-2, R-AUTH-1) and one
    with a sensitivity label is left out, with the rule and reason, unless its
    category is specifically covered. Re-running replaces the selection; an item
    whose document and version are unchanged keeps its excluded pages, redactions
    and a leaving out by hand.

    Audited as release.scope (a read of the patient's PHI).

    Raises:
        ValidationFailed: the request is closed."""
    check_workable(actor, req, "scope")
    docs = list(
        asked_for(req, actor.user)
        .select_related("doc_type", "encounter")
        .order_by("service_start", "created_at")
    )
    versions = latest_versions(docs)
    gate = authorizations.gate_for(req)
    with transaction.atomic():
        existing = {i.document_id: i for i in req.items.select_for_update()}
        keep: list[ReleaseItem] = []
        for position, doc in enumerate(docs, 1):
            version = versions.get(doc.pk)
            if version is None:
                continue  # a document without content has nothing to release
            labels = document_labels(doc)
            passed = gate(labels)
            include, rule, reason = passed.include, passed.rule, passed.reason
            item = existing.pop(doc.pk, None)
            if item is not None and item.version_id != version.pk:
                item.delete()  # a new version: its pages and redactions start over
                item = None
            if item is None:
                item = ReleaseItem(request=req, document=doc, version=version)
            elif include and item.rule == MANUAL:
                include, rule, reason = False, MANUAL, item.reason
            if include and not item.pages:
                item.pages = pdfs.page_count(version_pdf(version))
            item.included, item.rule, item.reason = include, rule[:40], reason[:300]
            item.labels, item.position = labels, position
            item.save()
            keep.append(item)
        for gone in existing.values():
            gone.delete()
        reopen(req)
        included = [i for i in keep if i.included]
        # Results go out as the packet is built; what would go now is audited here.
        results, results_left = select_results(req, actor.user)
        record(actor=actor, action=actions.RELEASE_SCOPE.name, patient=req.patient,
               obj=req, detail={
                   "included": [str(i.document_id) for i in included],
                   "left_out": {str(i.document_id): i.rule for i in keep if not i.included},
                   "pages": sum(i.pages - len(i.excluded_pages) for i in included),
                   **({"results": [str(r.report.pk) for r in results],
                       "results_left_out": {str(r.report.pk): r.rule
                                            for r in results_left}}
                      if results or results_left else {}),
               })  # fmt: skip
    return keep


def gate_changes(req: ReleaseRequest) -> list[str]:
    """What no longer holds for the included documents since they were selected: a
    sensitive document its basis no longer covers (a consent revoked, expired), a
    document entered in error, or a newer version. Empty when all still holds."""
    items = list(req.items.filter(included=True).select_related("document"))
    latest = latest_versions([i.document for i in items])
    gate = authorizations.gate_for(req)
    problems = []
    for item in items:
        doc = item.document
        if doc.status == DocumentStatus.ENTERED_IN_ERROR:
            problems.append(f"document {doc.pk} was entered in error")
        elif latest.get(doc.pk) and latest[doc.pk].pk != item.version_id:
            problems.append(f"document {doc.pk} has a newer version")
        elif not (passed := gate(item.labels)).include:
            what = f" ({', '.join(item.labels)})" if item.labels else ""
            problems.append(f"document {doc.pk}{what}: {passed.reason} ({passed.rule})")
    return problems
