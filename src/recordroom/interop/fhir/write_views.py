"""FHIR writes: transaction and batch bundles (POST /fhir/R4), create (POST
/fhir/R4/Type, conditional with If-None-Exist) and update (PUT /fhir/R4/Type/id).
Thin adapters over the Writer; each call is one database transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction as db_transaction
from django.http import HttpRequest, QueryDict

from recordroom.accounts.permissions import require
from recordroom.accounts.scopes import require_scope
from recordroom.audit.services import EventSpec, record_many
from recordroom.interop.models import SourceKey
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import RecordroomError, TooLarge
from recordroom.mpi.models import Facility

from . import body as json_body
from . import mapping, versions
from .facility_in import HTTP_FACILITY_ADVICE
from .params import Invalid
from .registry import REGISTRY, ResourceType, resource_type
from .search import narrow
from .values import as_uuid
from .versions import PreconditionFailed
from .writer import BundleRejected, Entry, Result, Writer

# What each type needs to be written (the same capabilities as the web app).
WRITE_CAPABILITY = {
    "Patient": "edit_demographics",
    "Encounter": "edit_demographics",
    "Condition": "edit_demographics",
    "Procedure": "edit_demographics",
    "Practitioner": "edit_demographics",
    "Organization": "edit_demographics",
    "DocumentReference": "add_document",
    "Binary": "add_document",
}
STATUS_LINE = {"created": "201 Created", "updated": "200 OK", "unchanged": "200 OK",
               "skipped": "200 OK"}  # fmt: skip


class NoCreateOnUpdate(RecordroomError):
    """FHIR: 405 when "the resource did not exist prior to the update, and the
    server does not allow client defined ids"."""

    code = "not-supported"
    status = 405


# Answers a GET entry of a Bundle: (entry index, url) -> the response entry.
ReadEntry = Callable[[int, str], dict[str, Any]]
ERROR_LINE = {400: "400 Bad Request", 412: "412 Precondition Failed"}


def parse_body(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object, or Invalid naming what is wrong."""
    json_body.check_media_type(request)
    limit = settings.FHIR_MAX_BODY_BYTES
    length = str(request.META.get("CONTENT_LENGTH") or "0")
    declared = int(length) if length.isdigit() else 0
    # Read the stream ourselves: Django's own 10 MB cap on request.body is for
    # forms; a Bundle may carry documents (RECORDROOM_FHIR_MAX_BODY_MB).
    data = b"" if declared > limit else request.read(limit + 1)
    if declared > limit or len(data) > limit:
        size = max(declared, len(data)) / 1048576
        raise TooLarge(f"the body is {size:.1f} MB; the limit is {limit // 1048576} MB "
                       "(RECORDROOM_FHIR_MAX_BODY_MB): send documents in smaller "
                       "bundles or through the bulk import")  # fmt: skip
    body = json_body.loads(data)
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        raise Invalid("the body is not a FHIR resource (no resourceType)",
                      field="resourceType")  # fmt: skip
    return body


def writer_for(actor: Actor) -> Writer:
    """A client's writes are keyed by the client: its ids are its own. What names
    no facility goes to the one the request names (FACILITY_HEADER), else to the
    client's only facility."""
    scope = actor.user.facility_ids()
    facility = None
    if actor.facility_id is not None:
        facility = Facility.objects.filter(pk=actor.facility_id).first()
    elif scope is not None and len(scope) == 1:
        facility = Facility.objects.filter(pk=next(iter(scope))).first()
    return Writer(actor=actor, source=f"api:{actor.username}", facility=facility,
                  facility_advice=HTTP_FACILITY_ADVICE)  # fmt: skip


def _require_write(actor: Actor, rtype: str, method: str) -> None:
    if rtype not in WRITE_CAPABILITY:
        raise Invalid(f"{rtype} cannot be written here; writable: "
                      f"{', '.join(WRITE_CAPABILITY)}", field="resourceType")  # fmt: skip
    require_scope(actor, rtype, "create" if method == "POST" else "update")
    require(actor.user, WRITE_CAPABILITY[rtype])


def transaction(
    actor: Actor, body: dict[str, Any], base: str, read: ReadEntry | None = None
) -> dict[str, Any]:
    """A transaction (all or nothing) or batch Bundle; the response Bundle. GET
    entries are answered by `read` after the writes, as the specification orders."""
    if body["resourceType"] != "Bundle":
        raise Invalid(f"POST to the base takes a Bundle, not a {body['resourceType']}",
                      field="resourceType")  # fmt: skip
    kind = body.get("type")
    if kind not in ("transaction", "batch"):
        raise Invalid(f"Bundle.type must be transaction or batch, not {kind!r}",
                      field="Bundle.type")  # fmt: skip
    listed = body.get("entry") or []
    if not isinstance(listed, list):
        raise Invalid(f"Bundle.entry must be an array, got {type(listed).__name__}",
                      field="Bundle.entry")  # fmt: skip
    entries = [_entry(actor, n, e, reads=read is not None)
               for n, e in enumerate(listed)]  # fmt: skip
    _conditional(actor, entries, batch=kind == "batch")
    writer = writer_for(actor)
    _if_match(writer, entries, batch=kind == "batch")
    results = writer.apply(entries, all_or_nothing=kind == "transaction")
    vids = versions.current_many([(r.resource_type, r.target_id) for r in results
                                  if r.target_id and r.status != "rejected"])  # fmt: skip
    answers = [_response_entry(r, base, vids) for r in results]
    for n, entry in enumerate(entries):
        if entry.method == "GET" and read is not None:
            answers[n] = read(n, entry.url)
    return {"resourceType": "Bundle", "type": f"{kind}-response", "entry": answers}


def _entry(actor: Actor, n: int, e: Any, *, reads: bool) -> Entry:
    """One Bundle entry as the writer's Entry (a GET: no resource, only its url)."""
    e = e if isinstance(e, dict) else {}
    req: dict[str, Any] = e["request"] if isinstance(e.get("request"), dict) else {}
    method = str(req.get("method") or "")
    url = str(req.get("url") or "")
    if method == "GET" and reads:
        return Entry(resource=None, method="GET", url=url)
    if method not in ("POST", "PUT"):
        raise Invalid(f"Bundle.entry[{n}].request.method {method!r}: only POST, PUT "
                      "and GET are accepted (nothing is deleted)",
                      field=f"Bundle.entry[{n}].request.method")  # fmt: skip
    res = e.get("resource")
    _require_write(
        actor, res.get("resourceType", "") if isinstance(res, dict) else "", method
    )
    return Entry(resource=res, full_url=str(e.get("fullUrl") or ""), method=method,
                 url=url, if_none_exist=str(req.get("ifNoneExist") or ""),
                 if_match=str(req.get("ifMatch") or ""))  # fmt: skip


def _if_match(writer: Writer, entries: list[Entry], *, batch: bool) -> None:
    """request.ifMatch of PUT entries: 412 unless it names the current version
    (the whole transaction, or that entry of a batch); the version rows are held
    until the Bundle's transaction ends."""
    for n, entry in enumerate(entries):
        if not entry.if_match or entry.method != "PUT":
            continue
        rtype, _, rid = entry.url.partition("/")
        target = _put_target(writer, rtype, rid)
        if target is not None:
            versions.lock(rtype, target)
        try:
            versions.require_match(rtype, target, entry.if_match)
        except PreconditionFailed as exc:
            if not batch:
                raise PreconditionFailed(f"entry {n} (PUT {entry.url}): {exc.message}",
                                         field=f"Bundle.entry[{n}].request.ifMatch") from None  # fmt: skip
            entry.refusal = exc.message


def _response_entry(
    r: Result, base: str, vids: dict[tuple[str, UUID], str]
) -> dict[str, Any]:
    if r.status == "rejected":
        code = "invalid" if r.http_status == 400 else "conflict"
        oo = mapping.operation_outcome(code, r.reason, r.expression or None)
        return {"response": {"status": ERROR_LINE[r.http_status], "outcome": oo}}
    response: dict[str, Any] = {"status": STATUS_LINE[r.status]}
    if r.target_id:
        vid = vids.get((r.resource_type, r.target_id), "1")
        response["location"] = f"{r.resource_type}/{r.target_id}/_history/{vid}"
        response["etag"] = versions.etag(vid)
    entry: dict[str, Any] = {"response": response}
    if r.target_id:
        entry["fullUrl"] = f"{base}{r.resource_type}/{r.target_id}"
    return entry


def _conditional(actor: Actor, entries: list[Entry], *, batch: bool) -> None:
    """If-None-Exist: an entry whose query finds one resource is answered by that
    resource, left unchanged (200); two or more is a 412 (the whole transaction,
    or that entry of a batch), as the specification says; none creates."""
    searches = []
    for entry in entries:
        if not entry.if_none_exist or not isinstance(entry.resource, dict):
            continue
        rt = resource_type(entry.resource["resourceType"])
        found = _search_ids(actor, rt, entry.if_none_exist)
        searches.append(EventSpec(actor, actions.PATIENT_SEARCH.name, detail={
            "fhir": rt.name, "ifNoneExist": entry.if_none_exist,
            "results": len(found)}))  # fmt: skip
        if len(found) > 1:
            message = (f"If-None-Exist {entry.if_none_exist!r} matches "
                       f"{len(found)} {rt.name} resources; make the query select one")  # fmt: skip
            if not batch:
                record_many(searches)
                raise PreconditionFailed(message, field="If-None-Exist")
            entry.refusal = message
        elif found:
            entry.found = found[0]
    if searches:
        record_many(searches)


def _search_ids(actor: Actor, rt: ResourceType, query: str) -> list[Any]:
    qs = rt.queryset(actor.user)
    params = QueryDict(query.lstrip("?"))
    if not params:
        raise Invalid(f"If-None-Exist {query!r} has no search parameters")
    qs, _, _ = narrow(rt, qs, params, actor.user, lenient=False)
    return list(qs.distinct().values_list("pk", flat=True)[:2])


def create_condition(request: HttpRequest) -> str:
    """The search of a conditional create: If-None-Exist, or the query of
    `POST Type?identifier=...` as some clients (fhirpy's get_or_create) send it,
    which must never be ignored into a duplicate."""
    header = request.headers.get("If-None-Exist", "")
    query = QueryDict(mutable=True)
    for name in request.GET:
        if name not in ("_format", "_pretty"):
            query.setlist(name, request.GET.getlist(name))
    if header and query and QueryDict(header.lstrip("?")) != query:
        raise Invalid(f"If-None-Exist {header!r} and the URL's search "
                      f"{query.urlencode()!r} differ; send one", field="If-None-Exist")  # fmt: skip
    return header or query.urlencode()


def create(
    actor: Actor, rtype: str, body: dict[str, Any], if_none_exist: str
) -> tuple[int, Result]:
    """One resource (POST Type); 201 created, or 200 when If-None-Exist found it."""
    if body["resourceType"] != rtype:
        raise Invalid(f"the body is a {body['resourceType']}, posted to {rtype}",
                      field="resourceType")  # fmt: skip
    if rtype == "Binary":
        raise Invalid("a Binary is kept only as a document's content: send it in a "
                      "transaction Bundle with its DocumentReference, or inline in "
                      "DocumentReference.content.attachment.data", field="Binary")  # fmt: skip
    _require_write(actor, rtype, "POST")
    entry = Entry(resource=body, method="POST", url=rtype, if_none_exist=if_none_exist)
    _conditional(actor, [entry], batch=False)
    result = _single(writer_for(actor), entry)
    return (201 if result.status == "created" else 200), result


def update(
    actor: Actor, rtype: str, rid: str, body: dict[str, Any], if_match: str = ""
) -> Result:
    """PUT Type/id: an update of one of our resources, or of one this client
    created under its own id. Ids are ours to assign (updateCreate false): a PUT
    to an id we do not know is refused (405), never a new record. With If-Match,
    only the version named is updated (412 otherwise), checked and written in one
    transaction that holds the resource's version row."""
    if body["resourceType"] != rtype:
        raise Invalid(f"the body is a {body['resourceType']}, put to {rtype}",
                      field="resourceType")  # fmt: skip
    if body.get("id") not in (None, rid):
        raise Invalid(f"the body's id {body.get('id')!r} is not the id in the URL "
                      f"{rid!r}", field="id")  # fmt: skip
    _require_write(actor, rtype, "PUT")
    writer = writer_for(actor)
    with db_transaction.atomic():
        target = _put_target(writer, rtype, rid)
        if target is not None:
            versions.lock(rtype, target)
        versions.require_match(rtype, target, if_match)
        if target is None:
            raise NoCreateOnUpdate(
                f"PUT {rtype}/{rid}: there is no {rtype} with this id here, and "
                f"Recordroom assigns ids itself: POST the resource to {rtype} (with "
                "If-None-Exist to find it if it is already here) and PUT to the id "
                "returned", field="id")  # fmt: skip
        return _single(writer, Entry(resource=body, method="PUT",
                                     url=f"{rtype}/{target}"))  # fmt: skip


def _put_target(writer: Writer, rtype: str, rid: str) -> UUID | None:
    """Our id, or the id this client gave a resource it sent before."""
    uid = as_uuid(rid)
    if uid is not None and writer.ours(rtype, [uid]):
        return uid
    key = SourceKey.objects.filter(source=writer.source, resource_type=rtype,
                                   source_id=rid).first()  # fmt: skip
    return key.target_id if key else None


def _single(writer: Writer, entry: Entry) -> Result:
    try:
        return writer.apply([entry], all_or_nothing=True)[0]
    except BundleRejected as exc:
        raise Invalid(exc.results[0].reason, field=exc.results[0].expression
                      or None) from None  # fmt: skip


def writable_types() -> list[str]:
    return [name for name, rt in REGISTRY.items() if rt.writable]
