"""Reading a patient's chart: finding patients (with account numbers), the whole chart,
and keyset pages of its encounters, documents and results (newest first,
facility-scoped)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.db import connections, router
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.sql import Query

from recordroom.audit.services import record
from recordroom.kernel import actions, sqlrows
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import Patient
from recordroom.mpi.search import (
    PatientHit,
    PatientQuery,
    SearchPage,
    scoped,
    search_page,
)
from recordroom.mpi.services import get_patient

from .access import readable_documents, readable_encounters, readable_results
from .models import Document, DocumentVersion, Encounter, ResultReport, Signature
from .results import current_observations, visible_results
from .services import visible_documents

T = TypeVar("T")
MAX_PAGE = 200  # rows per page at most


def record_search(
    *, actor: Actor, query: PatientQuery, account: str, hits: list[PatientHit]
) -> None:
    """Audit a patient search: the query (SSN masked), account and result count."""
    wanted = query.as_audit()
    if account.strip():
        wanted["account"] = account.strip()
    record(
        actor=actor,
        action=actions.PATIENT_SEARCH.name,
        detail={"query": wanted, "results": len(hits)},
    )


def find_patients(
    *, user: Any, query: PatientQuery, account: str = ""
) -> list[PatientHit]:
    """Search by name, birth date, identifier, SSN and/or encounter account number."""
    return find_patient_page(user=user, query=query, account=account).hits


def find_patient_page(
    *, user: Any, query: PatientQuery, account: str = ""
) -> SearchPage:
    """A page of `find_patients`, each hit with its last visit at the user's
    facilities (a visit elsewhere is not shown: it would disclose care there)."""
    account = account.strip()
    if account:
        ids = tuple(
            Encounter.objects.filter(account_number=account).values_list(
                "patient_id", flat=True
            )
        )
        query = replace(query, patient_ids=ids)
    user = scoped(user)  # its facilities read once for the whole search
    page = search_page(user=user, query=query)
    if page.hits:
        last = _last_visits(user, [h.patient.pk for h in page.hits])
        for hit in page.hits:
            hit.last_visit = last.get(hit.patient.pk)
    return page


def _last_visits(user: Any, ids: list[Any]) -> dict[Any, Any]:
    """Each patient's newest admission at the user's facilities: MAX(admit_at) per
    patient, in plain SQL (kernel.sqlrows) as the search's other hot reads (reading
    every visit row of a page's patients cost more CPU than the search)."""
    scope = user.facility_ids() if user is not None else None
    where = f"patient_id IN ({', '.join(['%s'] * len(ids))}) AND admit_at IS NOT NULL"
    params = [sqlrows.param(Encounter, "patient_id", pk) for pk in ids]
    if scope is not None:
        if not scope:
            return {}
        where += f" AND facility_id IN ({', '.join(['%s'] * len(scope))})"
        params += [sqlrows.param(Encounter, "facility_id", pk) for pk in scope]
    connection = connections[router.db_for_read(Encounter)]
    table = Encounter._meta.db_table
    cols = [Encounter._meta.get_field(f).get_col(table)  # type: ignore[union-attr]
            for f in ("patient", "admit_at")]  # fmt: skip
    convs = Query(Encounter).get_compiler(connection=connection).get_converters(cols)
    with sqlrows.cursor(connection) as cur:
        cur.execute(
            f"SELECT patient_id, MAX(admit_at) FROM {table} "  # noqa: S608
            f"WHERE {where} GROUP BY patient_id",
            params,
        )
        rows = cur.fetchall()
    out: dict[Any, Any] = {}
    for row in rows:
        values = list(row)
        for pos, (funcs, expr) in convs.items():
            for func in funcs:
                values[pos] = func(values[pos], expr, connection)
        out[values[0]] = values[1]
    return out


@dataclass
class Chart:
    patient: Patient
    encounters: list[Encounter]
    documents: list[Document]

    def documents_by_type(self) -> list[tuple[str, list[Document]]]:
        groups: dict[str, list[Document]] = {}
        for doc in self.documents:
            groups.setdefault(doc.doc_type.display, []).append(doc)
        return sorted(groups.items())


def get_chart(*, user: Any, patient_id: Any) -> Chart:
    """The chart a user may see: demographics with history, encounters, documents."""
    patient = get_patient(user=user, patient_id=patient_id)
    documents = (
        visible_documents(user)
        .filter(patient=patient)
        .select_related("doc_type", "author", "encounter", "facility")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=DocumentVersion.objects.prefetch_related("signatures__signer"),
            )
        )
        .order_by("-service_start")
    )
    encounters = visible_encounters(user, patient).order_by("-admit_at")
    return Chart(patient, list(encounters), list(documents))


# --- pages of a chart ------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One keyset page; `next` is the `after` that fetches the following page, or None
    at the end."""

    items: list[T]
    next: UUID | None


def visible_encounters(user: Any, patient: Patient) -> QuerySet[Encounter]:
    """The patient's encounters at the user's facilities (all of them for no user)."""
    rows = Encounter.objects.filter(patient=patient).select_related(
        "facility", "attending"
    )
    scope = user.facility_ids() if user is not None else None
    return rows if scope is None else rows.filter(facility_id__in=scope)


def with_current_version(docs: QuerySet[Document]) -> QuerySet[Document]:
    """Annotate each document with `current_version` (its newest version's number) and
    `current_signed` (whether that version carries a signature)."""
    latest = DocumentVersion.objects.filter(document=OuterRef("pk")).order_by("-number")
    signed = Signature.objects.filter(
        version__document=OuterRef("pk"), version__number=OuterRef("current_version")
    )
    return docs.select_related("doc_type", "author", "facility").annotate(
        current_version=Subquery(latest.values("number")[:1]),
        current_signed=Exists(signed),
    )


def document_with_version(document: Document) -> Document:
    """The document read again with its current version annotated (after a change)."""
    return with_current_version(Document.objects.filter(pk=document.pk)).get()


def encounter_page(
    *, user: Any, patient: Patient, after: UUID | None = None, limit: int = 50,
    hide_restricted: bool = False,
) -> Page[Encounter]:  # fmt: skip
    """The patient's encounters at the user's facilities, newest admission first.

    The caller has opened the patient (mpi.services.get_patient) and audits the read.

    Raises:
        ValidationFailed: `after` is not one of these encounters, or `limit` is not
            between 1 and MAX_PAGE.
    """
    rows = visible_encounters(user, patient)
    if hide_restricted:  # labels the user may not read (records.access)
        rows = readable_encounters(rows, user)
    return _keyset(rows, field="admit_at", after=after, limit=limit, what="encounters")


def document_page(
    *, user: Any, patient: Patient, after: UUID | None = None, limit: int = 50,
    hide_restricted: bool = False,
) -> Page[Document]:  # fmt: skip
    """The patient's documents at the user's facilities, newest service date first,
    each annotated as `with_current_version` does.

    The caller has opened the patient (mpi.services.get_patient) and audits the read.

    Raises:
        ValidationFailed: `after` is not one of these documents, or `limit` is not
            between 1 and MAX_PAGE.
    """
    rows = visible_documents(user).filter(patient=patient)
    if hide_restricted:  # labels the user may not read (records.access)
        rows = readable_documents(rows, user)
    rows = with_current_version(rows)
    return _keyset(
        rows, field="service_start", after=after, limit=limit, what="documents"
    )


def result_page(
    *, user: Any, patient: Patient, after: UUID | None = None, limit: int = 50,
    hide_restricted: bool = False,
) -> Page[ResultReport]:  # fmt: skip
    """The patient's lab and radiology reports at the user's facilities, newest
    first (undated last), each with `current`: the values of its current version.

    The caller has opened the patient (mpi.services.get_patient) and audits the read.

    Raises:
        ValidationFailed: `after` is not one of these results, or `limit` is not
            between 1 and MAX_PAGE.
    """
    rows = visible_results(user).filter(patient=patient)
    if hide_restricted:  # labels the user may not read (records.access)
        rows = readable_results(rows, user)
    rows = rows.select_related("encounter", "facility", "performer")
    page = _keyset(rows, field="effective_at", after=after, limit=limit,
                   what="results")  # fmt: skip
    values = current_observations(page.items)
    for report in page.items:
        report.current = values[report.pk]  # type: ignore[attr-defined]
    return page


def _keyset(
    rows: QuerySet[Any], *, field: str, after: UUID | None, limit: int, what: str
) -> Page[Any]:
    """Newest first by `field`, ties broken by id; `after` is the last id of the page
    before, so a page stays stable while rows are added."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(
            f"limit {limit} is out of range; ask for 1 to {MAX_PAGE} {what}",
            field="limit",
        )
    if after is not None:
        anchor_rows = list(rows.filter(pk=after).values_list(field, flat=True)[:1])
        if not anchor_rows:
            raise ValidationFailed(
                f"'after' {after} is not one of this patient's {what}; start again "
                "without it",
                field="after",
            )
        anchor = anchor_rows[0]
        # Rows without a date (an undated visit) sort last.
        if anchor is None:
            rows = rows.filter(**{f"{field}__isnull": True, "pk__lt": after})
        else:
            rows = rows.filter(
                Q(**{f"{field}__lt": anchor})
                | Q(**{field: anchor, "pk__lt": after})
                | Q(**{f"{field}__isnull": True})
            )
    page = list(rows.order_by(F(field).desc(nulls_last=True), "-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return Page(page, page[-1].pk if more and page else None)
