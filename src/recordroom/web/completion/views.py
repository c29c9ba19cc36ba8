"""Chart completion pages (R-RC-7): the delinquency dashboard with its charts, the
suspension list for the medical staff office (page, CSV, PDF), letters to providers
(write and send, read), and the specialists' worklists. Thin adapters."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from recordroom.audit.services import EventSpec, record_many
from recordroom.completion.delinquency import delinquency_rate
from recordroom.completion.history import monthly_history, rate_breakdown
from recordroom.completion.letters import email_ready, letter_pdf, run_letters
from recordroom.completion.models import ProviderLetter
from recordroom.completion.services import CHART_STATES, chart_worklist
from recordroom.completion.suspension import aging_buckets, facility_in_scope
from recordroom.completion.suspension_export import export_suspension_list
from recordroom.kernel import actions
from recordroom.kernel.errors import NotFound
from recordroom.mpi.models import Facility
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires

from .svg import bar_chart, line_chart

WORKLISTS = {"awaiting": "Awaiting analysis", "deficient": "Deficient",
             "complete": "Complete for coding"}  # fmt: skip


def _facilities(request: HttpRequest) -> list[Facility]:
    scope = request.user.facility_ids()  # type: ignore[union-attr]
    qs = Facility.objects.order_by("code")
    return list(qs if scope is None else qs.filter(pk__in=scope))


@requires("complete_charts")
def dashboard(request: HttpRequest) -> HttpResponse:
    """The rate by the configured method, its monthly history, aging, and the rate
    per facility and service: ?facility=CODE&service=NAME."""
    where = facility_in_scope(request.user, request.GET.get("facility", ""))
    service = request.GET.get("service", "").strip()[:100]
    rate = delinquency_rate(facility=where, service=service)
    months = monthly_history(facility=where, service=service)
    labels = [f"{m.start:%b %y}" for m in months]
    buckets = aging_buckets(facility=where)
    # the table: the facility asked for, else every one in the user's scope
    asked = where is not None and request.GET.get("facility")
    facilities = [where] if asked and where is not None else _facilities(request)
    context = {
        "rate": rate, "months": months, "buckets": buckets, "where": where,
        "service": service, "facilities": _facilities(request),
        "breakdown": rate_breakdown(facilities=facilities),
        "rate_chart": line_chart(
            ident="rate-chart", title="Delinquency rate by month", labels=labels,
            values=[m.rate_pct for m in months], threshold=rate.threshold_pct),
        "volume_chart": bar_chart(
            ident="volume-chart", title="Discharges and delinquent records by month",
            labels=labels, series=[("Discharges", [m.discharges for m in months]),
                                   ("Delinquent at month end",
                                    [m.delinquent for m in months])]),
        "aging_chart": bar_chart(
            ident="aging-chart", title="Open deficiencies by age",
            labels=[b.label for b in buckets],
            series=[("Since discharge", [b.since_discharge for b in buckets]),
                    ("Since assignment", [b.since_assignment for b in buckets])]),
    }  # fmt: skip
    return render(request, "web/completion/dashboard.html", context)


@requires("complete_charts")
def suspension(request: HttpRequest) -> HttpResponse:
    """The suspension list; ?format=csv or pdf downloads it."""
    fmt = request.GET.get("format", "json")
    where = facility_in_scope(request.user, request.GET.get("facility", ""))
    rows, data = export_suspension_list(actor=actor_from_request(request),
                                        facility=where, fmt=fmt)  # fmt: skip
    if fmt in ("csv", "pdf"):
        kind = "text/csv" if fmt == "csv" else "application/pdf"
        response = HttpResponse(data, content_type=kind)
        day = timezone.now().date().isoformat()
        response["Content-Disposition"] = (
            f'attachment; filename="suspension-list-{day}.{fmt}"'
        )
        return response
    return render(request, "web/completion/suspension.html",
                  {"rows": rows, "where": where, "facilities": _facilities(request),
                   "email_ready": email_ready()})  # fmt: skip


def _scoped_letters(request: HttpRequest) -> Any:
    scope = request.user.facility_ids()  # type: ignore[union-attr]
    qs = ProviderLetter.objects.select_related("provider", "facility")
    return qs if scope is None else qs.filter(facility_id__in=scope)


@requires("complete_charts")
def letters(request: HttpRequest) -> HttpResponse:
    """Letters written; POST writes today's (and e-mails them when SMTP is set up)."""
    if request.method == "POST":
        where = facility_in_scope(request.user, request.POST.get("facility", ""))
        run = run_letters(actor=actor_from_request(request), facility=where,
                          send=request.POST.get("send") == "1")  # fmt: skip
        messages.success(
            request,
            f"{len(run.written)} letter{'s' if len(run.written) != 1 else ''} written"
            f", {run.sent} sent by e-mail, {run.failed} failed, {run.not_sent} to "
            f"print, {run.skipped} already done today.",
        )
        return redirect("web:completion_letters")
    return render(request, "web/completion/letters.html",
                  {"letters": _scoped_letters(request)[:200],
                   "email_ready": email_ready()})  # fmt: skip


@requires("complete_charts")
def letter(request: HttpRequest, provider_letter_id: UUID) -> HttpResponse:
    """A letter to a provider, its PDF."""
    found = _scoped_letters(request).filter(pk=provider_letter_id).first()
    if found is None:
        raise NotFound(f"no letter with id '{provider_letter_id}'")
    response = HttpResponse(letter_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{found.pk}.pdf"'
    return response


@requires("complete_charts")
def worklist(request: HttpRequest) -> HttpResponse:
    """Charts awaiting analysis, deficient, or complete for coding; oldest first."""
    state = request.GET.get("state", "awaiting")
    state = state if state in CHART_STATES else "awaiting"
    code = request.GET.get("facility", "")
    rows = chart_worklist(user=request.user, state=state, facility=code.upper(),
                          limit=200)  # fmt: skip
    actor = actor_from_request(request)
    record_many([EventSpec(actor, actions.COMPLETION_VIEW.name, pid,
                           detail={"worklist": state, "page": True})
                 for pid in dict.fromkeys(e.patient_id for e in rows)])  # fmt: skip
    now = timezone.now()
    items = [{"e": e, "days": (now - e.discharge_at).days if e.discharge_at else 0,
              "analysis": getattr(e, "analysis", None)} for e in rows]  # fmt: skip
    return render(request, "web/completion/worklist.html",
                  {"items": items, "state": state, "worklists": WORKLISTS,
                   "facilities": _facilities(request), "facility": code.upper()})  # fmt: skip
