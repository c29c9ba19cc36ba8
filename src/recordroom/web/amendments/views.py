"""The amendments desk's pages: the worklist (deadlines, overdue, by status), logging
a request, one request with its clock, the author's review, the decision forms,
the statement of disagreement and rebuttal, and letters to download. Thin adapters:
each POST calls one service; a refusal is shown by name and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from recordroom.amendments import decisions, reads, services
from recordroom.amendments.letters import DISAGREEMENT_MAX_CHARS
from recordroom.amendments.models import (
    AmendmentRequest,
    EntryOutcome,
    Ground,
    ReceivedHow,
    Status,
)
from recordroom.kernel import clock
from recordroom.kernel.errors import NotFound, RecordroomError, ValidationFailed
from recordroom.mpi.models import Facility, IdentifierKind, Patient, PatientIdentifier
from recordroom.mpi.services import in_scope
from recordroom.records.models import Provider
from recordroom.records.services import visible_documents
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires

CAP = reads.CAPABILITY


@requires(CAP)
def worklist(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    overdue = request.GET.get("overdue") == "1"
    try:
        rows = list(services.worklist(user=request.user, status=status,
                                      overdue=overdue)[:500])  # fmt: skip
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        status, rows = "", list(services.worklist(user=request.user)[:500])
    actor = actor_from_request(request)
    reads.audit_listed(actor, "amendments", [r.patient_id for r in rows])
    items: list[dict[str, Any]] = [
        {"req": r, "clock": reads.clock_of(r), "name": reads.patient_name(r)}
        for r in rows]  # fmt: skip
    return render(request, "web/amendments/worklist.html", {
        "items": items, "status": status, "overdue": overdue,
        "statuses": Status.choices,
        "counts": [(label, services.status_counts(user=request.user)[value])
                   for value, label in Status.choices],
        "overdue_count": sum(1 for i in items if i["clock"].overdue)})  # fmt: skip


def _patient_by_mrn(request: HttpRequest, mrn: str) -> Patient:
    ident = (PatientIdentifier.objects.filter(kind=IdentifierKind.MRN, value=mrn.strip())
             .select_related("patient").first())  # fmt: skip
    if ident is None:
        raise NotFound(f"no patient with MRN {mrn.strip()!r}", field="mrn")
    return ident.patient


@requires(CAP)
def intake(request: HttpRequest) -> HttpResponse:
    """Log a request: find the patient by MRN, then what, why, which entries, whom
    to tell."""
    try:
        if request.GET.get("mrn"):
            return redirect(f"{request.path}?patient="
                            f"{_patient_by_mrn(request, request.GET['mrn']).pk}")  # fmt: skip
        patient = None
        if request.GET.get("patient") or request.POST.get("patient"):
            pid = request.POST.get("patient") or request.GET.get("patient") or ""
            patient = Patient.objects.filter(pk=pid).first()
            if patient is None or not in_scope(request.user, patient):
                raise NotFound(f"no patient {pid} at your facilities")
    except (RecordroomError, ValueError, DjangoValidationError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("web:amendments_intake")
    docs = (visible_documents(request.user).filter(patient=patient)
            .select_related("doc_type", "author") if patient else [])  # fmt: skip
    facilities = Facility.objects.order_by("code")
    scope = request.user.facility_ids()  # type: ignore[union-attr]
    if scope is not None:
        facilities = facilities.filter(pk__in=scope)
    context: dict[str, Any] = {"patient": patient, "documents": docs,
                               "facilities": facilities, "hows": ReceivedHow.choices[:-1],
                               "form": request.POST,
                               "today": clock.today(facilities.first())}  # fmt: skip
    if patient is not None:
        # the page lists the patient's documents: a read of their record
        reads.audit_listed(
            actor_from_request(request), "amendment intake", [patient.pk]
        )
        legal = patient.legal_name()
        context["name"] = legal.display if legal is not None else "(no name)"
    if request.method == "POST" and patient is not None:
        try:
            req = _log(request, patient)
        except RecordroomError as exc:
            context["error"] = exc.message
            return render(request, "web/amendments/intake.html", context, status=400)
        messages.success(request, f"Request {req.number} logged; due "
                                  f"{clock.short_date(req.due_on)}.")  # fmt: skip
        return redirect("web:amendments_request", amendment_id=req.pk)
    return render(request, "web/amendments/intake.html", context)


def _log(request: HttpRequest, patient: Patient) -> AmendmentRequest:
    post = request.POST
    facility = Facility.objects.filter(code=post.get("facility", "")).first()
    if facility is None:
        raise ValidationFailed("choose the facility", field="facility")
    try:
        received = date.fromisoformat(post.get("received_on", ""))
    except ValueError:
        raise ValidationFailed("give the date received as YYYY-MM-DD",
                               field="received_on") from None  # fmt: skip
    notify = []
    for n in (1, 2):
        name = post.get(f"notify_name_{n}", "").strip()
        if name:
            notify.append({"name": name,
                           "address": post.get(f"notify_address_{n}", "")})  # fmt: skip
    return services.log_request(
        actor=actor_from_request(request), patient=patient, facility=facility,
        received_on=received, received_how=post.get("received_how", ""),
        requested_by=post.get("requested_by", ""), address=post.get("address", ""),
        change=post.get("change", ""), reason=post.get("reason", ""),
        document_ids=post.getlist("documents"), notify=notify)  # fmt: skip


@requires(CAP)
def request_page(request: HttpRequest, amendment_id: Any) -> HttpResponse:
    actor = actor_from_request(request)
    try:
        req = reads.open_request(actor, amendment_id, part="request")
    except RecordroomError as exc:
        from recordroom.web.views_common import error_page

        return error_page(request, exc)
    entries = list(req.entries.select_related(
        "document__doc_type", "document__author", "version", "amended_version"))  # fmt: skip
    providers = Provider.objects.filter(active=True).order_by("family", "given")[:500]
    linked = getattr(request.user, "provider", None)
    return render(request, "web/amendments/request.html", {
        "req": req, "clock": reads.clock_of(req), "name": reads.patient_name(req),
        "entries": entries, "letters": req.letters.all(), "grounds": Ground.choices,
        "providers": providers, "max_chars": DISAGREEMENT_MAX_CHARS,
        "is_author": linked is not None and linked.pk == req.author_id,
        "denied": [e for e in entries if e.outcome == EntryOutcome.DENIED]})  # fmt: skip


def _act(
    step: Callable[[HttpRequest, AmendmentRequest], str],
) -> Callable[..., HttpResponse]:
    """A POST on a request: call one service, say what was done or why not."""

    @requires(CAP)
    def view(request: HttpRequest, amendment_id: Any) -> HttpResponse:
        if request.method != "POST":
            return redirect("web:amendments_request", amendment_id=amendment_id)
        try:
            req = services.get_request(user=request.user, request_id=amendment_id)
            messages.success(request, step(request, req))
        except RecordroomError as exc:
            messages.error(request, f"Nothing was changed: {exc.message}")
        return redirect("web:amendments_request", amendment_id=amendment_id)

    return view


def _extend(request: HttpRequest, req: AmendmentRequest) -> str:
    services.extend(actor=actor_from_request(request), req=req,
                    reason=request.POST.get("reason", ""))  # fmt: skip
    return f"Extended to {clock.short_date(req.extended_to)}; the notice is written."


def _route(request: HttpRequest, req: AmendmentRequest) -> str:
    pid = request.POST.get("author", "")
    author = Provider.objects.filter(pk=pid).first() if pid else None
    services.route_to_author(actor=actor_from_request(request), req=req, author=author)
    return f"Sent to {req.author} for review."


def _review(request: HttpRequest, req: AmendmentRequest) -> str:
    agrees = request.POST.get("agrees")
    if agrees not in ("yes", "no"):
        raise ValidationFailed(
            "say whether the entry should be amended", field="agrees"
        )
    services.author_review(actor=actor_from_request(request), req=req,
                           agrees=agrees == "yes", comment=request.POST.get("comment", ""))  # fmt: skip
    return "The author's review is recorded."


def _decide(request: HttpRequest, req: AmendmentRequest) -> str:
    accept: list[Any] = []
    deny: list[Any] = []
    for e in req.entries.all():
        choice = request.POST.get(f"entry_{e.document_id}", "")
        if choice not in ("accept", "deny"):
            raise ValidationFailed("accept or deny every entry", field="entries")
        (accept if choice == "accept" else deny).append(e.document_id)
    out = decisions.decide(
        actor=actor_from_request(request), req=req, accept=accept, deny=deny,
        amendment_text=request.POST.get("amendment_text", ""),
        ground=request.POST.get("ground", "") if deny else "",
        basis=request.POST.get("basis", ""),
        originator_available=request.POST.get("originator_available") == "1")  # fmt: skip
    return f"{req.get_status_display()}; {len(out)} letter{'s' if len(out) != 1 else ''} written."


def _disagreement(request: HttpRequest, req: AmendmentRequest) -> str:
    decisions.file_disagreement(actor=actor_from_request(request), req=req,
                                text=request.POST.get("text", ""))  # fmt: skip
    return "The statement of disagreement is linked to the record."


def _rebuttal(request: HttpRequest, req: AmendmentRequest) -> str:
    decisions.write_rebuttal(actor=actor_from_request(request), req=req,
                             text=request.POST.get("text", ""))  # fmt: skip
    return "The rebuttal is linked to the record; its copy to the patient is written."


def _include(request: HttpRequest, req: AmendmentRequest) -> str:
    decisions.ask_to_include(actor=actor_from_request(request), req=req)
    return "The request and the denial will go with later disclosures."


extend = _act(_extend)
route = _act(_route)
review = _act(_review)
decide = _act(_decide)
disagreement = _act(_disagreement)
rebuttal = _act(_rebuttal)
include = _act(_include)


@requires(CAP)
def letter(request: HttpRequest, amendment_letter_id: Any) -> HttpResponse:
    try:
        found, data = reads.open_letter(
            actor_from_request(request), amendment_letter_id
        )
    except RecordroomError as exc:
        from recordroom.web.views_common import error_page

        return error_page(request, exc)
    response = HttpResponse(data, content_type="application/pdf")
    name = f"{found.request.number}-{found.kind}.pdf"
    response["Content-Disposition"] = content_disposition_header(
        request.GET.get("download") == "1", name) or ""  # fmt: skip
    response["Cache-Control"] = "no-store, private"
    return response
