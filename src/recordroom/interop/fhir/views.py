"""FHIR R4 endpoints: plain Django views, thin adapters over mpi/records services.

Every route is in REGISTRY (resource type -> capability, search params, reader,
searcher) and the CapabilityStatement is generated from it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from recordroom.accounts.permissions import require
from recordroom.accounts.services import Throttled, authenticate_token
from recordroom.audit.services import EventSpec, record, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied, RecordroomError
from recordroom.mpi.models import Patient
from recordroom.mpi.services import get_patient, identifiers_in_scope, visible_patients
from recordroom.records.models import Document, DocumentVersion, Encounter
from recordroom.records.services import get_document, read_content, visible_documents

from . import mapping
from .params import (
    DOCUMENT_PARAMS,
    ENCOUNTER_PARAMS,
    PARAM_TYPES,
    PATIENT_PARAMS,
    Filter,
    Invalid,
    as_uuid,
)

FHIR_JSON = "application/fhir+json"
DEFAULT_COUNT = 20
MAX_COUNT = 100
# Parameters about the result, not the resources; accepted for every type.
RESULT_PARAMS = ("_count", "_after", "_format")


# --- request plumbing -------------------------------------------------------------


def fhir_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body), status=status, content_type=f"{FHIR_JSON}; charset=utf-8"
    )


def outcome(status: int, code: str, message: str, expression: str | None = None):  # type: ignore[no-untyped-def]
    return fhir_response(mapping.operation_outcome(code, message, expression), status)


def actor_from(request: HttpRequest, user: Any = None) -> Actor:
    """The Actor of a FHIR request (channel "fhir")."""
    return Actor(
        user=user,
        channel="fhir",
        client_address=str(request.META.get("REMOTE_ADDR", ""))[:64],
        request_id=getattr(request, "request_id", ""),
    )


def authenticate(request: HttpRequest) -> Actor:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PermissionDenied("send 'Authorization: Bearer rr_...' with an API token")
    user = authenticate_token(actor=actor_from(request), token=token.strip())
    return actor_from(request, user)


def fhir_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Authenticate and turn our errors into OperationOutcomes."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            resp = outcome(405, "not-supported",
                           f"{request.method} is not supported: this FHIR API is "
                           "read and search only (GET)")  # fmt: skip
            resp["Allow"] = "GET, HEAD"
            return resp
        try:
            try:
                actor = authenticate(request)
            except PermissionDenied as exc:
                resp = outcome(401, "login", exc.message)
                resp["WWW-Authenticate"] = 'Bearer realm="recordroom"'
                return resp
            return view(request, actor, *args, **kwargs)
        except Throttled as exc:
            resp = outcome(429, "throttled", exc.message)
            resp["Retry-After"] = str(exc.retry_after)
            return resp
        except NotFound as exc:
            return outcome(404, "not-found", exc.message, exc.field)
        except PermissionDenied as exc:
            return outcome(403, "forbidden", exc.message, exc.field)
        except RecordroomError as exc:
            code = "invalid" if exc.status < 500 else "processing"
            return outcome(exc.status if exc.status != 422 else 400, code,
                           exc.message, exc.field)  # fmt: skip

    wrapped.__name__ = view.__name__
    return csrf_exempt(wrapped)


# --- resources --------------------------------------------------------------------


def _patient_queryset(user: Any) -> QuerySet[Any]:
    return visible_patients(user)


def _encounter_queryset(user: Any) -> QuerySet[Any]:
    qs = Encounter.objects.filter(patient__in=visible_patients(user)).select_related(
        "facility", "attending", "admitting"
    )
    scope = user.facility_ids()
    return qs if scope is None else qs.filter(facility_id__in=scope)


def _document_queryset(user: Any) -> QuerySet[Any]:
    return visible_documents(user).filter(
        patient__in=visible_patients(user)
    ).select_related("doc_type", "author")  # fmt: skip


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
    return [
        mapping.patient(
            patients[pk],
            identifiers=idents.get(pk, []),
            names=patients[pk].names.all(),
            addresses=patients[pk].addresses.all(),
            telecoms=patients[pk].telecoms.all(),
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
    )
    return body, p.pk


def _read_encounter(actor: Actor, rid: str) -> tuple[dict[str, Any], Any]:
    try:
        e = _encounter_queryset(actor.user).get(pk=as_uuid(rid, "id"))
    except (Encounter.DoesNotExist, Invalid):
        raise NotFound(f"no encounter with id '{rid}' at your facilities") from None
    return mapping.encounter(e), e.patient_id


def _read_document(actor: Actor, rid: str) -> tuple[dict[str, Any], Any]:
    try:
        d = get_document(user=actor.user, document_id=rid)
    except PermissionDenied:
        raise NotFound(f"no document with id '{rid}' at your facilities") from None
    return mapping.document_reference(d, _current_versions([d]).get(d.pk)), d.patient_id


@dataclass(frozen=True)
class ResourceType:
    name: str
    capability: str  # for read and search
    search_capability: str
    params: dict[str, Filter]
    queryset: Callable[[Any], QuerySet[Any]]
    to_fhir: Callable[[Any, list[Any]], list[dict[str, Any]]]
    read: Callable[[Actor, str], tuple[dict[str, Any], Any]]
    interactions: tuple[str, ...] = ("read", "search-type")
    doc: dict[str, str] = field(default_factory=dict)


REGISTRY: dict[str, ResourceType] = {
    r.name: r
    for r in (
        ResourceType("Patient", "view_chart", "search_patients", PATIENT_PARAMS,
                     _patient_queryset, _map_patients, _read_patient),
        ResourceType("Encounter", "view_chart", "view_chart", ENCOUNTER_PARAMS,
                     _encounter_queryset,
                     lambda user, rows: [mapping.encounter(e) for e in rows],
                     _read_encounter),
        ResourceType("DocumentReference", "view_document", "view_document",
                     DOCUMENT_PARAMS, _document_queryset, _map_documents,
                     _read_document),
    )
}  # fmt: skip


# --- views ------------------------------------------------------------------------


def _resource(name: str) -> ResourceType:
    if name not in REGISTRY:
        raise NotFound(f"resource type {name!r} is not supported here; see /metadata",
                       field=name)  # fmt: skip
    return REGISTRY[name]


@fhir_view
def read(request: HttpRequest, actor: Actor, resource: str, rid: str) -> HttpResponse:
    rt = _resource(resource)
    require(actor.user, rt.capability)
    body, patient_id = rt.read(actor, rid)
    record(
        actor=actor,
        action=actions.CHART_OPEN.name,
        patient=patient_id,
        detail={"fhir": f"{resource}/{rid}"},
    )
    return fhir_response(body)


@fhir_view
def search(request: HttpRequest, actor: Actor, resource: str) -> HttpResponse:
    rt = _resource(resource)
    require(actor.user, rt.search_capability)
    strict = "handling=strict" in request.headers.get("Prefer", "").replace(" ", "")
    qs = rt.queryset(actor.user)
    used: list[tuple[str, str]] = []
    ignored: list[str] = []
    for name in request.GET:
        if name in RESULT_PARAMS:
            continue
        if name not in rt.params:
            if strict:
                raise Invalid(
                    f"search parameter {name!r} is not supported for {resource}; "
                    f"supported: {', '.join(rt.params)}", field=name,
                )  # fmt: skip
            ignored.append(name)
            continue
        for value in request.GET.getlist(name):
            if value == "":
                continue
            qs = rt.params[name](qs, value, name, actor.user)
            used.append((name, value))
    count = _count(request.GET.get("_count"))
    qs = qs.distinct()
    total = qs.count()
    page_qs = qs.order_by("pk")
    after = request.GET.get("_after")
    if after:
        page_qs = page_qs.filter(pk__gt=as_uuid(after, "_after"))
    # _count=0 asks for the total alone (FHIR search, "_count").
    rows = list(page_qs[: count + 1]) if count else []
    more = len(rows) > count
    rows = rows[:count]
    resources = rt.to_fhir(actor.user, rows)
    detail = {"fhir": resource, "params": dict(used), "results": len(rows)}
    events = [EventSpec(actor, actions.PATIENT_SEARCH.name, detail=detail)]
    if resource != "Patient":
        # Encounters and documents are chart content: each patient whose chart a
        # page disclosed finds it in their access log.
        for patient_id in dict.fromkeys(r.patient_id for r in rows):
            events.append(EventSpec(actor, actions.CHART_OPEN.name, patient_id,
                                    detail={"fhir": resource, "search": True}))  # fmt: skip
    record_many(events)
    base = request.build_absolute_uri(request.path)
    self_params = [*used, ("_count", str(count))]
    if after:
        self_params.append(("_after", after))
    links = [{"relation": "self", "url": f"{base}?{urlencode(self_params)}"}]
    if more:
        nxt = [*used, ("_count", str(count)), ("_after", str(rows[-1].pk))]
        links.append({"relation": "next", "url": f"{base}?{urlencode(nxt)}"})
    root = request.build_absolute_uri("/fhir/R4/")
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{root}{resource}/{r['id']}", "resource": r,
         "search": {"mode": "match"}}
        for r in resources
    ]  # fmt: skip
    if ignored:
        oo = mapping.operation_outcome(
            "not-supported",
            f"search parameters ignored (not supported for {resource}): "
            + ", ".join(ignored),
            ignored[0],
            severity="warning",
        )
        entries.append({"resource": oo, "search": {"mode": "outcome"}})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }
    return fhir_response(bundle)


def _count(value: str | None) -> int:
    if not value:
        return DEFAULT_COUNT
    try:
        n = int(value)
    except ValueError:
        raise Invalid(f"_count must be a whole number, not {value!r}",
                      field="_count") from None  # fmt: skip
    if n < 0:
        raise Invalid(f"_count must be 0 or more, not {n}", field="_count")
    return min(n, MAX_COUNT)


@fhir_view
def binary(request: HttpRequest, actor: Actor, rid: str) -> HttpResponse:
    require(actor.user, "view_document")
    version = DocumentVersion.objects.filter(pk=_uuid_or_404(rid, "Binary")).first()
    if version is None:
        raise NotFound(f"no Binary with id '{rid}'")
    try:
        document = get_document(user=actor.user, document_id=version.document_id)
    except PermissionDenied:
        raise NotFound(f"no Binary with id '{rid}' at your facilities") from None
    content = read_content(actor=actor, document=document,
                           version_number=version.number)  # fmt: skip
    if FHIR_JSON in request.headers.get("Accept", ""):
        import base64

        return fhir_response({
            "resourceType": "Binary",
            "id": str(version.pk),
            "contentType": version.media_type,
            "data": base64.b64encode(content.data).decode("ascii"),
        })  # fmt: skip
    return HttpResponse(content.data, content_type=version.media_type)


def _uuid_or_404(value: str, resource: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"no {resource} with id '{value}'") from None


def capability_statement(base: str) -> dict[str, Any]:
    """Generated from REGISTRY, so it lists exactly what is implemented."""
    resources: list[dict[str, Any]] = [
        {
            "type": rt.name,
            "interaction": [{"code": i} for i in rt.interactions],
            "searchParam": [{"name": p, "type": PARAM_TYPES[p]} for p in rt.params],
        }
        for rt in REGISTRY.values()
    ]
    resources.append({"type": "Binary", "interaction": [{"code": "read"}]})
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "kind": "instance",
        "software": {"name": "Recordroom"},
        "implementation": {"description": "Recordroom FHIR R4 API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Bearer API tokens (Authorization: Bearer rr_...) "
                    "issued per user; the user's role and facilities decide what "
                    "is readable. SMART on FHIR authorization is not offered yet.",
                },
                "resource": resources,
            }
        ],
    }


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability_statement(request.build_absolute_uri("/fhir/R4/")))
