"""The FHIR resource types served: for each, who may read it, its search
parameters, the rows a user may see, and the mapping to FHIR. The
CapabilityStatement is generated from this table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet

from recordroom.audit import fhir as audit_fhir
from recordroom.audit.models import AuditEvent
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied
from recordroom.mpi.decisions import linked_to
from recordroom.mpi.models import Patient, PatientMerge
from recordroom.mpi.services import get_patient, identifiers_in_scope, visible_patients
from recordroom.records.access import (
    readable_clinical,
    readable_documents,
    readable_encounters,
    require_document,
    require_encounter,
)
from recordroom.records.models import (
    Condition,
    Document,
    DocumentVersion,
    Encounter,
    Organization,
    Procedure,
    Provider,
)
from recordroom.records.services import get_document, visible_documents

from . import mapping, provenance, results, search, versions
from .params import (
    AUDIT_PARAMS,
    CONDITION_PARAMS,
    DOCUMENT_PARAMS,
    ENCOUNTER_PARAMS,
    EVENT_TIME,
    ORGANIZATION_PARAMS,
    PARAM_TYPES,
    PATIENT_PARAMS,
    PRACTITIONER_PARAMS,
    PROCEDURE_PARAMS,
    PROVENANCE_PARAMS,
    Filter,
    Invalid,
    SearchParam,
    as_uuid,
)


def _patient_queryset(user: Any) -> QuerySet[Any]:
    return visible_patients(user)


def _encounter_queryset(user: Any) -> QuerySet[Any]:
    qs = Encounter.objects.filter(patient__in=visible_patients(user)).select_related(
        "facility", "attending", "admitting"
    )
    scope = user.facility_ids()
    qs = qs if scope is None else qs.filter(facility_id__in=scope)
    # Labels the reader may not read leave the visit out of searches, includes,
    # $everything and exports; a read of it is refused (403) naming the label.
    return readable_encounters(qs, user)


def resource_type(name: str) -> ResourceType:
    if name not in REGISTRY:
        raise NotFound(f"resource type {name!r} is not supported here; see /metadata",
                       field=name)  # fmt: skip
    return REGISTRY[name]


def _document_queryset(user: Any) -> QuerySet[Any]:
    return readable_documents(visible_documents(user).filter(
        patient__in=visible_patients(user)
    ), user).select_related("doc_type", "author")  # fmt: skip


def _clinical_queryset(model: Any) -> Callable[[Any], QuerySet[Any]]:
    """Conditions and procedures of visible patients, at the reader's facilities
    when they belong to a visit."""

    def qs(user: Any) -> QuerySet[Any]:
        rows = readable_clinical(
            model.objects.filter(patient__in=visible_patients(user)), user
        )
        scope = user.facility_ids()
        if scope is None:
            return rows
        return rows.filter(
            Q(encounter__isnull=True) | Q(encounter__facility_id__in=scope)
        )

    return qs


def _provenance_queryset(user: Any) -> QuerySet[Any]:
    # Searched by patient or target only (params.py insists), each checked in scope.
    return provenance.events()


def _map_patients(user: Any, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [p.pk for p in rows]
    if not ids:
        return []
    patients = {
        p.pk: p
        for p in Patient.objects.filter(pk__in=ids).prefetch_related(
            "names", "addresses", "telecoms"
        )
    }
    idents: dict[Any, list[Any]] = {}
    for i in identifiers_in_scope(user).filter(patient_id__in=ids):
        idents.setdefault(i.patient_id, []).append(i)
    replaces: dict[Any, list[Any]] = {}
    # From the merges (a small table): Patient.merged_into is null for nearly every
    # row, and SQLite's statistics then steer an IN on it to a full scan.
    for retired, survivor in PatientMerge.objects.filter(
        survivor_id__in=ids, undone_at__isnull=True
    ).values_list("retired_id", "survivor_id"):
        replaces.setdefault(survivor, []).append(retired)
    return [
        mapping.patient(
            patients[pk],
            identifiers=idents.get(pk, []),
            names=patients[pk].names.all(),
            addresses=patients[pk].addresses.all(),
            telecoms=patients[pk].telecoms.all(),
            replaces=replaces.get(pk, []),
        )
        for pk in ids
    ]


def _current_versions(docs: list[Document]) -> dict[Any, DocumentVersion]:
    out: dict[Any, DocumentVersion] = {}
    for v in DocumentVersion.objects.filter(document__in=docs).order_by("number"):
        out[v.document_id] = v
    return out


def _map_documents(user: Any, rows: list[Any]) -> list[dict[str, Any]]:
    versions = _current_versions(rows)
    return [mapping.document_reference(d, versions.get(d.pk)) for d in rows]


def _read_patient(actor: Actor, rid: str) -> tuple[dict[str, Any], Any]:
    try:
        p = get_patient(user=actor.user, patient_id=rid)
    except PermissionDenied:
        # Out of scope reads as absent: a 403 would confirm care elsewhere.
        raise NotFound(f"no patient with id '{rid}' at your facilities") from None
    body = mapping.patient(
        p,
        identifiers=p.identifiers.all(),
        names=p.names.all(),
        addresses=p.addresses.all(),
        telecoms=p.telecoms.all(),
        replaces=PatientMerge.objects.filter(
            survivor=p, undone_at__isnull=True
        ).values_list("retired_id", flat=True),
        see_also=linked_to(p),
    )
    return body, p.pk


def _read_document(actor: Actor, rid: str) -> tuple[dict[str, Any], Any]:
    try:
        d = get_document(user=actor.user, document_id=rid, check_labels=False)
    except PermissionDenied:
        raise NotFound(f"no document with id '{rid}' at your facilities") from None
    require_document(actor.user, d)  # a label the reader lacks: 403, named
    return mapping.document_reference(d, _current_versions([d]).get(d.pk)), d.patient_id


def _read_encounter(actor: Actor, rid: str) -> tuple[dict[str, Any], Any]:
    user = actor.user
    rows = Encounter.objects.filter(patient__in=visible_patients(user)).select_related(
        "facility", "attending", "admitting", "patient"
    )
    scope = user.facility_ids()
    rows = rows if scope is None else rows.filter(facility_id__in=scope)
    try:
        row = rows.get(pk=as_uuid(rid, "id"))
    except (Invalid, ObjectDoesNotExist):
        raise NotFound(f"no Encounter with id '{rid}' at your facilities") from None
    require_encounter(user, row)  # a label the reader lacks: 403, named
    return mapping.encounter(row), row.patient_id


@dataclass(frozen=True)
class ResourceType:
    name: str
    capability: str  # for read and search
    search_capability: str
    params: Mapping[str, Filter | SearchParam]
    queryset: Callable[[Any], QuerySet[Any]]
    mapper: Callable[[Any, list[Any]], list[dict[str, Any]]]
    read: Callable[[Actor, str], tuple[dict[str, Any], Any]] | None = None
    interactions: tuple[str, ...] = ("read", "search-type")
    writable: bool = False  # create, update, and in transaction/batch bundles
    integer_ids: bool = False  # audit events are numbered, not UUIDs
    chart_content: bool = True  # a read or search opens the patient's chart
    needs_one_of: tuple[str, ...] = ()  # a search must narrow by one of these
    last_updated: SearchParam | None = None  # `_lastUpdated`: where it is kept

    @cached_property
    def search_params(self) -> dict[str, SearchParam]:
        """Every search parameter of the type, as the parser and the
        CapabilityStatement both read them."""
        return search.declare(self.params, PARAM_TYPES, self.last_updated)

    def to_fhir(self, user: Any, rows: list[Any]) -> list[dict[str, Any]]:
        """The rows as FHIR resources, with their versions (meta)."""
        bodies = self.mapper(user, rows)
        if self.integer_ids:  # audit events are never changed: version 1
            return versions.stamp_immutable(bodies)
        return versions.stamp(self.name, bodies)

    def read_one(self, actor: Actor, rid: str) -> tuple[dict[str, Any], Any]:
        if self.read is not None:
            body, patient = self.read(actor, rid)
            return versions.stamp(self.name, [body])[0], patient
        key: Any = rid
        try:
            key = int(rid) if self.integer_ids else as_uuid(rid, "id")
            row = self.queryset(actor.user).get(pk=key)
        except (Invalid, ValueError, ObjectDoesNotExist):
            raise NotFound(
                f"no {self.name} with id '{rid}' at your facilities"
            ) from None
        return self.to_fhir(actor.user, [row])[0], _patient_of(row)


def _patient_of(row: Any) -> Any:
    if isinstance(row, Patient):
        return row.pk
    return getattr(row, "patient_id", None) or None


def _map(
    fn: Callable[[Any], dict[str, Any]],
) -> Callable[[Any, list[Any]], list[dict[str, Any]]]:
    return lambda user, rows: [fn(r) for r in rows]


REGISTRY: dict[str, ResourceType] = {
    r.name: r
    for r in (
        ResourceType("Patient", "view_chart", "search_patients", PATIENT_PARAMS,
                     _patient_queryset, _map_patients, _read_patient, writable=True,
                     last_updated=versions.last_updated_param("Patient")),
        ResourceType("Encounter", "view_chart", "view_chart", ENCOUNTER_PARAMS,
                     _encounter_queryset, _map(mapping.encounter), _read_encounter,
                     writable=True, last_updated=versions.last_updated_param("Encounter")),
        ResourceType("DocumentReference", "view_document", "view_document",
                     DOCUMENT_PARAMS, _document_queryset, _map_documents,
                     _read_document, writable=True,
                     last_updated=versions.last_updated_param("DocumentReference")),
        ResourceType("Condition", "view_chart", "view_chart", CONDITION_PARAMS,
                     _clinical_queryset(Condition), _map(mapping.condition),
                     writable=True, last_updated=versions.last_updated_param("Condition")),
        ResourceType("Procedure", "view_chart", "view_chart", PROCEDURE_PARAMS,
                     _clinical_queryset(Procedure), _map(mapping.procedure),
                     writable=True, last_updated=versions.last_updated_param("Procedure")),
        ResourceType("DiagnosticReport", "view_chart", "view_chart",
                     results.DIAGNOSTIC_REPORT_PARAMS, results.report_queryset,
                     results.map_reports, results.read_report),
        ResourceType("Observation", "view_chart", "view_chart",
                     results.OBSERVATION_PARAMS, results.observation_queryset,
                     results.map_observations, results.read_observation),
        ResourceType("Practitioner", "view_chart", "view_chart", PRACTITIONER_PARAMS,
                     lambda user: Provider.objects.all(), _map(mapping.practitioner),
                     writable=True, chart_content=False,
                     last_updated=versions.last_updated_param("Practitioner")),
        ResourceType("Organization", "view_chart", "view_chart", ORGANIZATION_PARAMS,
                     lambda user: Organization.objects.all(), _map(mapping.organization),
                     writable=True, chart_content=False,
                     last_updated=versions.last_updated_param("Organization")),
        ResourceType("AuditEvent", "view_audit", "view_audit", AUDIT_PARAMS,
                     lambda user: AuditEvent.objects.all(), _map(audit_fhir.to_fhir),
                     integer_ids=True, chart_content=False, last_updated=EVENT_TIME),
        ResourceType("Provenance", "view_chart", "view_chart", PROVENANCE_PARAMS,
                     _provenance_queryset, _map(provenance.to_fhir),
                     integer_ids=True, needs_one_of=("patient", "target"),
                     last_updated=EVENT_TIME),
    )
}  # fmt: skip
for _rt in REGISTRY.values():  # a parameter declared without a type fails at start-up
    _rt.search_params  # noqa: B018
