"""FHIR R4 endpoints: plain Django views, thin adapters over mpi/records services.

Every route is in REGISTRY (resource type -> capability, search params, reader,
searcher) and the CapabilityStatement is generated from it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from recordroom.accounts.oauth import authenticate_bearer
from recordroom.accounts.permissions import require
from recordroom.accounts.scopes import require_scope
from recordroom.accounts.services import Throttled
from recordroom.audit.refusals import audit_refusal
from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions, netaddr
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied, RecordroomError
from recordroom.mpi.models import Patient
from recordroom.mpi.services import in_scope
from recordroom.records.access import require_chart, require_document
from recordroom.records.models import DocumentVersion
from recordroom.records.services import get_document, read_content

from . import compartment, mapping, patient_paging, versions, write_views
from .facility_in import FACILITY_HEADER, WRITE_DOCUMENTATION, acting_at
from .params import Invalid, as_uuid
from .registry import REGISTRY, ResourceType, _patient_of, resource_type
from .search import base_name, narrow, revincludes

FHIR_JSON = "application/fhir+json"
DEFAULT_COUNT = 20
MAX_COUNT = 100
SMART_SERVICE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR",
        }
    ]
}
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
ISSUE_CODE = {
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
}


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
        client_address=netaddr.client_address(request),
        request_id=getattr(request, "request_id", ""),
    )


def authenticate(request: HttpRequest) -> Actor:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PermissionDenied("send 'Authorization: Bearer <token>' with an API token "
                               "(rr_...) or an access token from /oauth/token")  # fmt: skip
    bearer = authenticate_bearer(actor=actor_from(request), token=token.strip())
    return bearer.acting(actor_from(request))


def fhir_view(
    *methods: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Authenticate, allow `methods` (GET and HEAD always), and turn our errors
    into OperationOutcomes."""
    allowed = ("GET", "HEAD", *methods)

    def decorate(
        view: Callable[..., HttpResponseBase],
    ) -> Callable[..., HttpResponseBase]:
        def wrapped(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            if request.method not in allowed:
                resp = outcome(405, "not-supported",
                               f"{request.method} is not supported here; allowed: "
                               f"{', '.join(allowed)}")  # fmt: skip
                resp["Allow"] = ", ".join(allowed)
                return resp
            return _dispatch(view, request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.view = view  # type: ignore[attr-defined]  # for reads in a batch
        return csrf_exempt(wrapped)

    return decorate


def _dispatch(
    view: Callable[..., HttpResponseBase],
    request: HttpRequest,
    *args: Any,
    **kwargs: Any,
) -> HttpResponseBase:
    try:
        actor = authenticate(request)
    except PermissionDenied as exc:
        resp = outcome(401, "login", exc.message)
        resp["WWW-Authenticate"] = 'Bearer realm="recordroom"'
        return resp
    except Throttled as exc:
        return _throttled(exc)
    return answer(view, request, actor, *args, **kwargs)


def _throttled(exc: Throttled) -> HttpResponse:
    resp = outcome(429, "throttled", exc.message)
    resp["Retry-After"] = str(exc.retry_after)
    return resp


def answer(
    view: Callable[..., HttpResponseBase],
    request: HttpRequest,
    actor: Actor,
    *args: Any,
    **kwargs: Any,
) -> HttpResponseBase:
    """Run a FHIR view for an authenticated actor, our errors as OperationOutcomes
    (also for a read inside a batch)."""
    try:
        actor = acting_at(actor, request.headers.get(FACILITY_HEADER, ""))
        return view(request, actor, *args, **kwargs)
    except Throttled as exc:
        return _throttled(exc)
    except NotFound as exc:  # out of scope reads as absent, but is audited as refused
        _audit_refusal(request, actor, exc, view, kwargs)
        return outcome(404, "not-found", exc.message, exc.field)
    except PermissionDenied as exc:
        _audit_refusal(request, actor, exc, view, kwargs)
        return outcome(403, "forbidden", exc.message, exc.field)
    except RecordroomError as exc:
        code = ISSUE_CODE.get(exc.status, "invalid" if exc.status < 500
                              else "processing")  # fmt: skip
        return outcome(exc.status if exc.status != 422 else 400, code,
                       exc.message, exc.field)  # fmt: skip


def _audit_refusal(
    request: HttpRequest, actor: Actor, exc: RecordroomError,
    view: Callable[..., Any], kwargs: dict[str, Any],
) -> None:  # fmt: skip
    """access.denied for a refused FHIR interaction (the patient when the URL names
    one: Patient/{id}, or a compartment's)."""
    patient = request.GET.get("patient") or request.GET.get("subject")
    if kwargs.get("resource") == "Patient" or view.__name__ == "everything":
        patient = kwargs.get("rid")  # Patient/{id}, Patient/{id}/$everything
    audit_refusal(actor=actor, exc=exc, path=request.path, patient_id=patient)


# --- views ------------------------------------------------------------------------


@fhir_view("PUT")
def read(request: HttpRequest, actor: Actor, resource: str, rid: str) -> HttpResponse:
    rt = resource_type(resource)
    if request.method == "PUT":
        result = write_views.update(
            actor, resource, rid, write_views.parse_body(request),
            request.headers.get("If-Match", ""),
        )  # fmt: skip
        return _written(request, actor, rt, result, 201 if result.status == "created"
                        else 200)  # fmt: skip
    body = read_audited(actor, rt, rid)
    if versions.not_modified(request, body):
        return versions.headers(HttpResponse(status=304), body)
    return versions.headers(fhir_response(body), body)


def read_audited(actor: Actor, rt: ResourceType, rid: str) -> dict[str, Any]:
    require_scope(actor, rt.name, "read")
    require(actor.user, rt.capability)
    body, patient_id = rt.read_one(actor, rid)
    _audit_read(actor, rt, [patient_id], {"fhir": f"{rt.name}/{rid}"})
    return body


def _audit_read(
    actor: Actor, rt: ResourceType, patients: list[Any], detail: dict[str, Any],
    search: bool = False,
) -> None:  # fmt: skip
    """Searching patients is a patient search; chart content opens each chart it
    shows; the audit trail read is itself audited; practitioners and
    organizations are not PHI."""
    events = []
    chart_detail = {"fhir": detail["fhir"], "search": True} if search else detail
    if search and rt.name != "AuditEvent":
        events.append(EventSpec(actor, actions.PATIENT_SEARCH.name, detail=detail))
    if rt.name == "AuditEvent":
        events.append(EventSpec(actor, actions.AUDIT_VIEW.name, detail=detail))
    elif rt.chart_content or rt.name == "Patient":
        for patient_id in dict.fromkeys(p for p in patients if p):
            if not search or rt.name != "Patient":
                events.append(EventSpec(actor, actions.CHART_OPEN.name, patient_id,
                                        detail=chart_detail))  # fmt: skip
    if events:
        record_many(events)


@fhir_view("POST")
def search(request: HttpRequest, actor: Actor, resource: str) -> HttpResponse:
    if request.method == "POST":
        status, result = write_views.create(
            actor, resource, write_views.parse_body(request),
            write_views.create_condition(request),
        )  # fmt: skip
        return _written(request, actor, resource_type(resource), result, status)
    rt = resource_type(resource)
    require_scope(actor, rt.name, "search")
    require(actor.user, rt.search_capability)
    # Strict unless asked: a PHI system must not answer a narrower question with a
    # wider set by dropping what it does not know (FHIR search, "handling").
    lenient = "handling=lenient" in request.headers.get("Prefer", "").replace(" ", "")
    qs, used, ignored = narrow(rt, rt.queryset(actor.user), request.GET, actor.user,
                               lenient=lenient)  # fmt: skip
    revs = revincludes(rt, request.GET.getlist("_revinclude"), compartment.INCLUDES)
    narrowed = [p for p in rt.needs_one_of if p in {base_name(k) for k, _ in used}]
    if rt.needs_one_of and not narrowed:
        raise Invalid(f"a {resource} search needs one of: {', '.join(rt.needs_one_of)}",
                      field=rt.needs_one_of[0])  # fmt: skip
    count = _count(request.GET.get("_count"), request.GET.get("_summary"))
    after = request.GET.get("_after")
    # _count=0 asks for the total alone; fhirpy's count() also sends _totalMethod.
    accurate = (count == 0 or request.GET.get("_total") == "accurate"
                or request.GET.get("_totalMethod") in ("count", "accurate"))  # fmt: skip
    rows, total, next_after = _page(rt, qs, actor, used, count, after, accurate)
    resources = rt.to_fhir(actor.user, rows)
    wanted = request.GET.getlist("_include")
    included = compartment.includes(actor, resource, wanted, rows) if wanted else []
    rev, rev_patients = compartment.revincludes(actor, revs, rows)
    detail = {"fhir": resource, "params": dict(used), "results": len(rows)}
    _audit_read(actor, rt, [_patient_of(r) for r in rows], detail, search=True)
    if rev_patients:  # chart content a search brought along opens each chart
        brought = [f"{t}:{p}" for t, p, _ in revs]
        _audit_read(actor, REGISTRY[revs[0][0]], rev_patients,
                    {"fhir": resource, "_revinclude": brought})  # fmt: skip
    page = Page(used, count, after, next_after, total)
    return fhir_response(_searchset(request, rt, page, resources, [*included, *rev],
                                    ignored))  # fmt: skip


@dataclass(frozen=True)
class Page:
    used: list[tuple[str, str]]  # the search parameters applied
    count: int
    after: str | None
    next_after: str | None
    total: int | None


def _searchset(
    request: HttpRequest, rt: ResourceType, page: Page,
    resources: list[dict[str, Any]], included: list[dict[str, Any]],
    ignored: list[str],
) -> dict[str, Any]:  # fmt: skip
    """The searchset Bundle. Its links carry only the parameters applied: with
    lenient handling, those ignored are named in an OperationOutcome entry."""
    base = request.build_absolute_uri(request.path)
    shaping = [(k, v) for k in ("_include", "_revinclude", "_total")
               for v in request.GET.getlist(k)]  # fmt: skip
    self_params = [*page.used, *shaping, ("_count", str(page.count))]
    if page.after:
        self_params.append(("_after", page.after))
    links = [{"relation": "self", "url": f"{base}?{urlencode(self_params)}"}]
    if page.next_after:
        nxt = [*page.used, *shaping, ("_count", str(page.count)),
               ("_after", page.next_after)]  # fmt: skip
        links.append({"relation": "next", "url": f"{base}?{urlencode(nxt)}"})
    root = request.build_absolute_uri("/fhir/R4/")
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{root}{r['resourceType']}/{r['id']}", "resource": r,
         "search": {"mode": mode}}
        for mode, group in (("match", resources), ("include", included))
        for r in group
    ]  # fmt: skip
    if ignored:
        oo = mapping.operation_outcome(
            "not-supported",
            f"search parameters ignored (not supported for {rt.name}): "
            + ", ".join(ignored),
            ignored[0],
            severity="warning",
        )
        entries.append({"resource": oo, "search": {"mode": "outcome"}})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        **({"total": page.total} if page.total is not None else {}),
        "link": links,
        "entry": entries,
    }


@fhir_view()
def everything(request: HttpRequest, actor: Actor, rid: str) -> HttpResponse:
    """Patient/$everything: the chart as one searchset Bundle (_since, _type)."""
    require(actor.user, "view_chart")
    types = {t for t in request.GET.get("_type", "").split(",") if t} or None
    unknown = (types or set()) - set(REGISTRY)
    if unknown:
        raise Invalid(f"_type names types not served here: {', '.join(sorted(unknown))}",
                      field="_type")  # fmt: skip
    since = compartment.since_param(request.GET.get("_since"))
    patient = Patient.objects.filter(pk=_uuid_or_404(rid, "Patient")).first()
    if patient is not None and in_scope(actor.user, patient):
        require_chart(actor.user, patient)  # a VIP or restricted chart: 403, named
    resources = compartment.everything(actor, rid, since, types)
    record_many([EventSpec(actor, actions.CHART_OPEN.name, rid, detail={
        "fhir": f"Patient/{rid}/$everything", "results": len(resources)})])  # fmt: skip
    root = request.build_absolute_uri("/fhir/R4/")
    return fhir_response({
        "resourceType": "Bundle", "type": "searchset", "total": len(resources),
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [{"fullUrl": f"{root}{r['resourceType']}/{r['id']}", "resource": r,
                   "search": {"mode": "match"}} for r in resources],
    })  # fmt: skip


def _written(
    request: HttpRequest, actor: Actor, rt: ResourceType, result: Any, status: int
) -> HttpResponse:
    """The resource as now stored, with its Location (FHIR create/update); when its
    sensitivity labels keep the writer from reading it back, an OperationOutcome
    saying so instead (the write is done: a feed may file what it may not read)."""
    try:
        body, patient_id = rt.read_one(actor, str(result.target_id))
    except PermissionDenied as exc:
        body = mapping.operation_outcome(
            "informational", f"stored; {exc.message}", severity="information"
        )
    else:
        if result.status == "unchanged":  # shown, not written (If-None-Exist)
            _audit_read(actor, rt, [patient_id],
                        {"fhir": f"{rt.name}/{result.target_id}"})  # fmt: skip
    resp = versions.headers(fhir_response(body, status), body)
    vid = (
        body.get("meta", {}).get("versionId")
        if body["resourceType"] == rt.name
        else None
    )
    history = f"/_history/{vid}" if vid else ""
    resp["Location"] = request.build_absolute_uri(
        f"/fhir/R4/{rt.name}/{result.target_id}{history}"
    )
    return resp


TOTAL_CAP = patient_paging.TOTAL_CAP


def _page(
    rt: ResourceType, qs: Any, actor: Actor, used: list[tuple[str, str]],
    count: int, after: str | None, accurate: bool,
) -> tuple[list[Any], int | None, str | None]:  # fmt: skip
    """One page of matches, the total (None past TOTAL_CAP unless _total=accurate:
    Bundle.total is optional, and counting every "Smith" costs more than the page),
    and the next page's cursor. Patients searched by name page in name order."""
    if (
        rt.name == "Patient"
        and count
        and any(p in patient_paging.NAME_PARAMS for p, _ in used)
        and all(p in patient_paging.PAGED_PARAMS and "," not in v for p, v in used)
    ):
        found = patient_paging.page(actor.user, used, count, after, accurate)
        by_pk = rt.queryset(actor.user).in_bulk(found.patient_ids)
        rows = [by_pk[pk] for pk in found.patient_ids if pk in by_pk]
        return rows, found.total, found.next_token
    ids = qs.order_by().values("pk").distinct()
    if accurate:
        total: int | None = ids.count()
    else:
        capped = ids[: TOTAL_CAP + 1].count()
        total = capped if capped <= TOTAL_CAP else None
    page_ids = ids.order_by("pk")
    if after:
        key: Any = _int_id(after) if rt.integer_ids else as_uuid(after, "_after")
        page_ids = page_ids.filter(pk__gt=key)
    # _count=0 asks for the total alone (FHIR search, "_count").
    wanted = [r["pk"] for r in page_ids[: count + 1]] if count else []
    by_pk = rt.queryset(actor.user).in_bulk(wanted[:count])
    rows = [by_pk[pk] for pk in wanted[:count] if pk in by_pk]
    return rows, total, str(wanted[count - 1]) if len(wanted) > count else None


def _int_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Invalid(f"_after must be an event number, not {value!r}",
                      field="_after") from None  # fmt: skip


def _count(value: str | None, summary: str | None = None) -> int:
    if summary is not None:
        # `_summary=count` is the total alone; other summaries would change the
        # resources' shape, which we do not do: refused, never ignored.
        if summary != "count":
            raise Invalid(f"_summary={summary!r} is not supported; _summary=count is",
                          field="_summary")  # fmt: skip
        return 0
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


@fhir_view()
def binary(request: HttpRequest, actor: Actor, rid: str) -> HttpResponse:
    require_scope(actor, "Binary", "read")
    require(actor.user, "view_document")
    version = DocumentVersion.objects.filter(pk=_uuid_or_404(rid, "Binary")).first()
    if version is None:
        raise NotFound(f"no Binary with id '{rid}'")
    try:
        document = get_document(
            user=actor.user, document_id=version.document_id, check_labels=False
        )
    except PermissionDenied:
        raise NotFound(f"no Binary with id '{rid}' at your facilities") from None
    require_document(actor.user, document)  # a label the reader lacks: 403, named
    content = read_content(actor=actor, document=document,
                           version_number=version.number)  # fmt: skip
    if FHIR_JSON in request.headers.get("Accept", ""):
        import base64

        body = versions.stamp_immutable([{  # a document version never changes
            "resourceType": "Binary",
            "id": str(version.pk),
            "meta": {"lastUpdated": versions.instant(version.created_at)},
            "contentType": version.media_type,
            "data": base64.b64encode(content.data).decode("ascii"),
        }])[0]  # fmt: skip
        return versions.headers(fhir_response(body), body)
    resp = HttpResponse(content.data, content_type=version.media_type)
    resp["ETag"] = versions.etag("1")
    return resp


def _uuid_or_404(value: str, resource: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"no {resource} with id '{value}'") from None


def capability_statement(base: str) -> dict[str, Any]:
    """Generated from REGISTRY, so it lists exactly what is implemented."""
    resources: list[dict[str, Any]] = []
    for rt in REGISTRY.values():
        interactions = [
            *rt.interactions,
            "vread",
            "history-instance",
            *(("create", "update") if rt.writable else ()),
        ]
        entry: dict[str, Any] = {
            "type": rt.name,
            "interaction": [{"code": i} for i in interactions],
            # Every change counts a version (ETag, If-Match); only the current
            # version is kept as FHIR: vread of an older one is 410 Gone.
            "versioning": "versioned-update" if rt.writable else "versioned",
            "readHistory": False,
            "conditionalRead": "full-support",  # If-None-Match, If-Modified-Since
            "searchParam": [
                {"name": n, "type": p.type} for n, p in rt.search_params.items()
            ],
        }
        included = [f"{t}:{p}" for t, p in compartment.INCLUDES if t == rt.name]
        if included:
            entry["searchInclude"] = included
        pointing = [f"{t}:{p}" for (t, p), (to, _) in compartment.INCLUDES.items()
                    if to == rt.name]  # fmt: skip
        if pointing:
            entry["searchRevInclude"] = pointing
        if rt.writable:
            entry["conditionalCreate"] = True
            # Ids are ours to assign (opaque UUIDs): PUT to an unknown id is a 405.
            entry["updateCreate"] = False
        if rt.name == "Patient":
            entry["operation"] = [{"name": "everything", "definition":
                "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]  # fmt: skip
        resources.append(entry)
    resources.append({"type": "Binary", "interaction": [{"code": "read"}]})
    token_uri = {"url": "token", "valueUri": urljoin(base, reverse("oauth-token"))}
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
                    # SMART App Launch: where clients get tokens (no authorize URI:
                    # system clients only, SMART Backend Services).
                    "extension": [{"url": OAUTH_URIS, "extension": [token_uri]}],
                    "service": [SMART_SERVICE],
                    "description": "Bearer tokens: a user's API token (rr_...), or a "
                    "system client's OAuth2 access token from /oauth/token (client "
                    "credentials with a client secret or a private_key_jwt assertion "
                    "signed RS384 or ES384, SMART system/ scopes; see .well-known/"
                    "smart-configuration). Roles and facilities decide what is "
                    "readable; scopes narrow it.",
                },
                "documentation": WRITE_DOCUMENTATION,
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    }
                ],
            }
        ],
    }


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability_statement(request.build_absolute_uri("/fhir/R4/")))
