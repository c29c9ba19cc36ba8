"""FHIR Bulk Data Access (v2) endpoints: $export kick-off at the system, Patient and
Group level, the status URL (poll, cancel) and the NDJSON files."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from recordroom.accounts.permissions import require
from recordroom.interop.bulk import export
from recordroom.interop.models import ExportStatus
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound
from recordroom.mpi.models import Facility

from .compartment import since_param
from .params import Invalid
from .views import fhir_response, fhir_view

NDJSON = "application/fhir+ndjson"
FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")


def _kick_off(request: HttpRequest, actor: Actor, level: str,
              group: Facility | None = None) -> HttpResponse:  # fmt: skip
    require(actor.user, "view_chart")
    require(actor.user, "view_document")
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise Invalid("$export runs asynchronously: send 'Prefer: respond-async'",
                      field="Prefer")  # fmt: skip
    fmt = request.GET.get("_outputFormat", NDJSON)
    if fmt not in FORMATS:
        raise Invalid(f"_outputFormat {fmt!r} is not supported; use {NDJSON}",
                      field="_outputFormat")  # fmt: skip
    types = [t for t in request.GET.get("_type", "").split(",") if t] or None
    job = export.kick_off(
        actor=actor, level=level, request_url=request.build_absolute_uri(),
        types=types, since=since_param(request.GET.get("_since")), group=group,
    )  # fmt: skip
    resp = HttpResponse(status=202)
    resp["Content-Location"] = request.build_absolute_uri(
        f"/fhir/R4/$export-status/{job.pk}"
    )
    return resp


@fhir_view()
def system_export(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _kick_off(request, actor, "system")


@fhir_view()
def patient_export(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _kick_off(request, actor, "patient")


@fhir_view()
def group_export(request: HttpRequest, actor: Actor, gid: str) -> HttpResponse:
    """A Group is one of our facilities: its patients (those with an identifier
    there), by the facility's id or code."""
    facility = Facility.objects.filter(code=gid).first()
    if facility is None:
        try:
            facility = Facility.objects.filter(pk=gid).first()
        except Exception:  # not a UUID
            facility = None
    if facility is None:
        raise NotFound(f"no Group {gid!r}: a Group is a facility, by id or code")
    return _kick_off(request, actor, "group", facility)


@fhir_view("DELETE")
def status(request: HttpRequest, actor: Actor, job_id: str) -> HttpResponse:
    job = export.get_job(actor=actor, job_id=job_id)
    if request.method == "DELETE":
        export.cancel(actor=actor, job=job)
        return HttpResponse(status=202)
    if job.status in (ExportStatus.ACCEPTED, ExportStatus.RUNNING):
        resp = HttpResponse(status=202)
        resp["X-Progress"] = job.progress or job.status
        resp["Retry-After"] = "2"
        return resp
    if job.status != ExportStatus.COMPLETE:
        raise Invalid(f"export {job.pk} {job.status}: {job.error or 'no detail'}")
    base = request.build_absolute_uri(f"/fhir/R4/$export-file/{job.pk}/")
    return fhir_response({
        "transactionTime": job.requested_at.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [{"type": f["type"], "url": f"{base}{f['type']}.ndjson",
                    "count": f["count"]} for f in job.files],
        "error": [],
    })  # fmt: skip


@fhir_view()
def download(
    request: HttpRequest, actor: Actor, job_id: str, rtype: str
) -> StreamingHttpResponse:
    job = export.get_job(actor=actor, job_id=job_id)
    chunks = export.open_file(actor=actor, job=job, rtype=rtype)
    return StreamingHttpResponse(chunks, content_type=NDJSON)
