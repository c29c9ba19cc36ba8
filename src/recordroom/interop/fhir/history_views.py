"""FHIR versions of one resource: vread (GET Type/id/_history/vid) and its
history (GET Type/id/_history). Only the current version is kept as FHIR (see
versions.py); the record's own history is the audit trail and Provenance."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from recordroom.kernel.actor import Actor

from . import versions
from .registry import resource_type
from .views import fhir_response, fhir_view, outcome, read_audited


@fhir_view()
def vread(
    request: HttpRequest, actor: Actor, resource: str, rid: str, vid: str
) -> HttpResponse:
    """GET Type/id/_history/vid: the current version; an older one is Gone (only
    the current version is kept as FHIR: readHistory false)."""
    rt = resource_type(resource)
    body = read_audited(actor, rt, rid)
    now = body.get("meta", {}).get("versionId")
    if vid != now:
        known = vid.isdigit() and now is not None and 0 < int(vid) < int(now)
        resp = outcome(410 if known else 404, "deleted" if known else "not-found",
                       f"{resource}/{rid} version {vid} is "
                       f"{'no longer kept' if known else 'not a version of it'}: only "
                       f"the current version, {now}, can be read (the audit trail and "
                       f"Provenance?target={resource}/{rid} say who changed it, when)")  # fmt: skip
        return resp
    return versions.headers(fhir_response(body), body)


@fhir_view()
def history(
    request: HttpRequest, actor: Actor, resource: str, rid: str
) -> HttpResponse:
    """GET Type/id/_history: a history Bundle holding the current version, the one
    version kept as FHIR."""
    rt = resource_type(resource)
    body = read_audited(actor, rt, rid)
    meta = body.get("meta", {})
    url = request.build_absolute_uri(f"/fhir/R4/{resource}/{rid}")
    return fhir_response({
        "resourceType": "Bundle", "type": "history", "total": 1,
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [{"fullUrl": url, "resource": body,
                   "request": {"method": "PUT", "url": f"{resource}/{rid}"},
                   "response": {"status": "200 OK",
                                "etag": versions.etag(meta.get("versionId", "1")),
                                **({"lastModified": meta["lastUpdated"]}
                                   if meta.get("lastUpdated") else {})}}],
    })  # fmt: skip
