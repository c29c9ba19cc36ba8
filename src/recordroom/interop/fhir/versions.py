"""FHIR versions of served resources: meta.versionId and meta.lastUpdated from the
counters the database keeps (interop.ResourceVersion), the ETag, and If-Match.

Only the current version of a resource is kept as FHIR: vread of an older
version answers 410 Gone naming the current one (readHistory false in the
CapabilityStatement); the record's own history lives in the audit trail and in
Provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, parse_http_date_safe

from recordroom.interop.models import ResourceVersion
from recordroom.kernel.errors import Conflict
from recordroom.mpi.models import Patient
from recordroom.records.models import (
    Condition,
    Document,
    Encounter,
    Organization,
    Procedure,
)

from . import dates
from .search import SearchParam
from .values import as_uuid

# When a never-changed resource was written, for types whose mapping does not say.
CREATED: dict[str, tuple[type[models.Model], str]] = {
    "Encounter": (Encounter, "created_at"),
    "DocumentReference": (Document, "updated_at"),
    "Organization": (Organization, "updated_at"),
    "Condition": (Condition, "updated_at"),
    "Procedure": (Procedure, "updated_at"),
    "Patient": (Patient, "updated_at"),
}


class PreconditionFailed(Conflict):
    status = 412


def instant(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stamp(rtype: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set meta.versionId and meta.lastUpdated on `bodies` (one query). A resource
    never changed since it was created is version 1, updated when its row says; a
    type that keeps its own versions (DiagnosticReport) says them itself."""
    ids = [uid for b in bodies if (uid := as_uuid(str(b.get("id") or "")))]
    known: dict[str, ResourceVersion] = {}
    for start in range(0, len(ids), 900):
        for found in ResourceVersion.objects.filter(
            resource_type=rtype, resource_id__in=ids[start : start + 900]
        ):
            known[str(found.resource_id)] = found
    untimed: list[dict[str, Any]] = []
    for body in bodies:
        meta = body.setdefault("meta", {})
        row = known.get(str(body.get("id")))
        if row is not None:
            meta["versionId"] = str(row.version)
        else:  # a type that counts its own versions (a result) keeps its count
            meta.setdefault("versionId", "1")
        if row is not None:
            meta["lastUpdated"] = instant(row.updated_at)
        elif "lastUpdated" not in meta:
            untimed.append(body)
    if untimed and rtype in CREATED:
        model, column = CREATED[rtype]
        times = dict(model._default_manager.filter(
            pk__in=[b["id"] for b in untimed]).values_list("pk", column))  # fmt: skip
        for body in untimed:
            at = times.get(as_uuid(body["id"]))
            if at is not None:
                body["meta"]["lastUpdated"] = instant(at)
    return bodies


def stamp_immutable(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """AuditEvent and Provenance: written once, version 1 from when recorded."""
    for body in bodies:
        meta = body.setdefault("meta", {})
        meta["versionId"] = "1"
        meta.setdefault("lastUpdated", body.get("recorded"))
    return bodies


def current_many(pairs: list[tuple[str, UUID]]) -> dict[tuple[str, UUID], str]:
    """The current versionId of each (type, id) given (one query per type)."""
    by_type: dict[str, list[UUID]] = {}
    for rtype, rid in pairs:
        by_type.setdefault(rtype, []).append(rid)
    found = {pair: "1" for pair in pairs}
    for rtype, ids in by_type.items():
        for start in range(0, len(ids), 900):
            for rid, version in ResourceVersion.objects.filter(
                resource_type=rtype, resource_id__in=ids[start : start + 900]
            ).values_list("resource_id", "version"):
                found[(rtype, rid)] = str(version)
    return found


def current(rtype: str, rid: UUID) -> str:
    """The current versionId of one resource."""
    row = ResourceVersion.objects.filter(resource_type=rtype, resource_id=rid).first()
    return str(row.version) if row else "1"


def lock(rtype: str, rid: UUID) -> None:
    """Hold the resource's version row (PostgreSQL) until the transaction ends:
    every write to the resource, by any path, waits on it (the triggers update
    it). SQLite's writes already run one at a time (BEGIN IMMEDIATE)."""
    list(ResourceVersion.objects.select_for_update()
         .filter(resource_type=rtype, resource_id=rid).values_list("pk"))  # fmt: skip


def etag(version_id: str) -> str:
    return f'W/"{version_id}"'


def wanted(if_match: str) -> str:
    """The versionId an If-Match header names: W/"3", "3" or 3."""
    value = if_match.strip()
    value = value[2:] if value.startswith(("W/", "w/")) else value
    return value.strip('"')


def require_match(rtype: str, rid: UUID | None, if_match: str) -> None:
    """If-Match on an update: 412 unless it names the current version."""
    if not if_match:
        return
    if rid is None:
        raise PreconditionFailed(
            f"If-Match {if_match!r}: there is no {rtype} with this id to match; "
            "leave If-Match out to create", field="If-Match")  # fmt: skip
    now = current(rtype, rid)
    if wanted(if_match) != now:
        raise PreconditionFailed(
            f"If-Match {if_match!r} is not the current version of {rtype}/{rid} "
            f"(it is {etag(now)}): read it again, apply your change, and resend",
            field="If-Match")  # fmt: skip


def headers(resp: HttpResponse, body: dict[str, Any]) -> HttpResponse:
    """ETag and Last-Modified of a resource (FHIR http: read, vread, create, update)."""
    meta = body.get("meta") or {}
    if "versionId" in meta:
        resp["ETag"] = etag(meta["versionId"])
    if meta.get("lastUpdated"):
        at = parse_datetime(meta["lastUpdated"])
        if at is not None:
            resp["Last-Modified"] = http_date(at.timestamp())
    return resp


def not_modified(request: HttpRequest, body: dict[str, Any]) -> bool:
    """A conditional read (If-None-Match, else If-Modified-Since) of a resource the
    client already has: answer 304 without the body."""
    meta = body.get("meta") or {}
    tags = request.headers.get("If-None-Match", "")
    if tags:
        return tags.strip() == "*" or meta.get("versionId") in {
            wanted(t) for t in tags.split(",")}  # fmt: skip
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    at = parse_datetime(meta.get("lastUpdated") or "")
    return since is not None and at is not None and int(at.timestamp()) <= since


def last_updated_param(rtype: str) -> SearchParam:
    """`_lastUpdated` on the time `meta.lastUpdated` shows (stamp()): the version
    row's when the resource changed since it was created, else its own column (a
    Practitioner's version row is written with it)."""
    column = dates.instant(LAST_UPDATED)
    own = CREATED.get(rtype)

    def f(qs: QuerySet[Any], value: str, param: str, user: Any) -> QuerySet[Any]:
        changed = ResourceVersion.objects.filter(
            resource_type=rtype, resource_id=OuterRef("pk")
        ).values("updated_at")[:1]
        at = Coalesce(Subquery(changed), F(own[1])) if own else Subquery(changed)
        return qs.annotate(**{LAST_UPDATED: at}).filter(
            dates.condition(column, value, param)
        )

    return SearchParam("date", f)


LAST_UPDATED = "fhir_last_updated"
