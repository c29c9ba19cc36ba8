"""Sensitivity labels applied to the record: the labels a chart, visit or document
carries, the one check (accounts.labels.access) applied to each, and the rows a user
may read, for lists and searches (R-MIN-3, R-P2-1, R-PN-2, R-STATE-2, R-SEC-1)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Coalesce

from recordroom.accounts.labels import (
    Access,
    access,
    break_the_glass,
    grants,
    refusal,
)
from recordroom.accounts.models import BreakGlass
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.labels import LABELS
from recordroom.mpi.models import Patient
from recordroom.mpi.restricted import CHART_FLAGS, chart_labels

from .models import Document, Encounter, ResultReport


def encounter_labels(encounter: Encounter) -> list[str]:
    return [*(encounter.sensitivity or []), *chart_labels(encounter.patient)]


def document_labels(document: Document) -> list[str]:
    """The document's labels, its visit's (a note written in a Part 2 visit is Part 2,
    as release.scope reads it) and its chart's."""
    own = list(document.sensitivity or [])
    if document.encounter_id is not None and document.encounter is not None:
        own += document.encounter.sensitivity or []
    return [*own, *chart_labels(document.patient)]


def result_labels(report: ResultReport) -> list[str]:
    """A result's labels, its visit's and its chart's (as document_labels)."""
    own = list(report.sensitivity or [])
    if report.encounter_id is not None and report.encounter is not None:
        own += report.encounter.sensitivity or []
    return [*own, *chart_labels(report.patient)]


def result_access(user: Any, report: ResultReport) -> Access:
    return access(user, result_labels(report), patient_id=report.patient_id)


def require_result(user: Any, report: ResultReport) -> Access:
    result = result_access(user, report)
    if not result.allowed:
        raise refusal(user, result, "this result")
    return result


def chart_access(user: Any, patient: Patient) -> Access:
    return access(user, chart_labels(patient), patient_id=patient.pk)


def encounter_access(user: Any, encounter: Encounter) -> Access:
    return access(user, encounter_labels(encounter), patient_id=encounter.patient_id)


def document_access(user: Any, document: Document) -> Access:
    author = document.author.user_id if document.author_id and document.author else None
    return access(
        user,
        document_labels(document),
        patient_id=document.patient_id,
        author_user_id=author,
    )


def require_chart(user: Any, patient: Patient) -> Access:
    """The chart's Access, or PermissionDenied naming VIP/restricted in plain words."""
    result = chart_access(user, patient)
    if not result.allowed:
        raise refusal(user, result, "this chart")
    return result


def require_encounter(user: Any, encounter: Encounter) -> Access:
    result = encounter_access(user, encounter)
    if not result.allowed:
        raise refusal(user, result, "this visit")
    return result


def require_document(user: Any, document: Document) -> Access:
    result = document_access(user, document)
    if not result.allowed:
        raise refusal(user, result, "this document")
    return result


# --- rows a user may read ------------------------------------------------------------


def _unreadable(
    user: Any, *, fields: tuple[str, ...], patient: str, author: str | None
) -> Q | None:
    """The rows carrying a label the user may not read now (None: every row is fine).

    `fields` are aliases of the rows' label lists cast to text; a label matches as
    its quoted code (so PSY never matches PSYTHPN).
    """
    held = grants(user)
    if held is None:
        return None
    glass = list(held.glass_patients)
    out: list[Q] = []

    def opened(code: str) -> Q | None:
        if code in held.by_glass and glass:
            return Q(**{f"{patient}_id__in": glass})
        return None

    for label in LABELS:
        if label.code in held.always:
            continue
        hit = Q()
        for field in fields:
            hit |= Q(**{f"{field}__contains": f'"{label.code}"'})
        if author is not None:  # spelled out: NOT on a NULL would hide the row
            hit &= (
                Q(**{f"{author}__isnull": True})
                | Q(**{f"{author}__user__isnull": True})
                | ~Q(**{f"{author}__user": user})
            )
        way = opened(label.code)
        out.append(hit & ~way if way is not None else hit)
    for code, flag in CHART_FLAGS:
        if code in held.always:
            continue
        hit = Q(**{f"{patient}__{flag}": True})
        way = opened(code)
        out.append(hit & ~way if way is not None else hit)
    if not out:
        return None
    combined = out[0]
    for q in out[1:]:
        combined |= q
    return combined


def _readable(
    rows: QuerySet[Any], user: Any, label_fields: tuple[str, ...], *,
    patient: str = "patient", author: str | None = None,
) -> QuerySet[Any]:  # fmt: skip
    # A visit's labels are NULL for a document without one: "" keeps the test false.
    aliases = {
        f"_labels{i}": Coalesce(
            Cast(f, TextField()), Value(""), output_field=TextField()
        )
        for i, f in enumerate(label_fields)
    }
    hidden = _unreadable(user, fields=tuple(aliases), patient=patient, author=author)
    return rows if hidden is None else rows.alias(**aliases).exclude(hidden)


def readable_documents(rows: QuerySet[Document], user: Any) -> QuerySet[Document]:
    """`rows` without the documents whose labels (own, visit's, chart's) the user may
    not read now: what lists, searches and exports show."""
    return _readable(
        rows, user, ("sensitivity", "encounter__sensitivity"), author="author"
    )


def readable_encounters(rows: QuerySet[Encounter], user: Any) -> QuerySet[Encounter]:
    return _readable(rows, user, ("sensitivity",))


def readable_results(rows: QuerySet[ResultReport], user: Any) -> QuerySet[ResultReport]:
    """Reports without those whose labels (own, visit's, chart's) the user may not
    read now."""
    return _readable(rows, user, ("sensitivity", "encounter__sensitivity"))


def readable_observations(rows: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Observations, by their report's labels (as readable_results)."""
    return _readable(
        rows, user, ("report__sensitivity", "report__encounter__sensitivity"),
        patient="report__patient",
    )  # fmt: skip


def readable_clinical(rows: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Conditions and procedures: their visit's labels and their chart's."""
    return _readable(rows, user, ("encounter__sensitivity",))


# --- break-the-glass on a chart ------------------------------------------------------


def chart_restricted_labels(user: Any, patient: Patient) -> list[str]:
    """The labels on this chart (its own, its visits' and documents') that the user
    may not read now."""
    present: set[str] = set(chart_labels(patient))
    for rows in (
        Encounter.objects.filter(patient=patient).values_list("sensitivity", flat=True),
        Document.objects.filter(patient=patient).values_list("sensitivity", flat=True),
        ResultReport.objects.filter(patient=patient).values_list(
            "sensitivity", flat=True
        ),
    ):
        for codes in rows:
            present.update(codes or [])
    result = access(user, sorted(present), patient_id=patient.pk)
    return list(result.refused)


def chart_breakable(user: Any, patient: Patient) -> list[str]:
    """Of chart_restricted_labels, those a reason (break-the-glass) would open."""
    held = grants(user)
    if held is None:
        return []
    return [c for c in chart_restricted_labels(user, patient) if c in held.by_glass]


def break_glass(*, actor: Actor, patient: Patient, reason: str) -> BreakGlass:
    """Open what this chart's labels restrict for the actor, with a reason (R-SEC-1
    emergency access; accounts.labels.break_the_glass audits it)."""
    labels = chart_restricted_labels(actor.user, patient)
    if not labels:
        raise ValidationFailed(
            "nothing on this chart is restricted for you; open it as usual"
        )
    return break_the_glass(
        actor=actor, patient_id=patient.pk, labels=labels, reason=reason
    )
