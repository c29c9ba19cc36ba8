"""The query desk's pages: the worklist (and a chart's queries), raising a query from
a visit (templates, indicators picked from the chart's results and quoted from its
documents), one query with its answer and timing, the provider's own queries and
the answer form, and the metrics. Thin adapters: each POST calls one service; a
refusal is shown with its rule IDs and nothing is written."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from recordroom.kernel.errors import NotFound, RecordroomError
from recordroom.mpi.services import in_scope
from recordroom.queries import metrics, reads, services
from recordroom.queries.models import (
    Format,
    IndicatorKind,
    Purpose,
    QueryTemplate,
    Status,
    YesNoGround,
)
from recordroom.records.access import readable_documents, readable_observations
from recordroom.records.models import Encounter, Provider, ResultObservation
from recordroom.records.services import current_version, visible_documents
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import error_page, requires

CAP = reads.CAPABILITY
PROVIDER = reads.PROVIDER_CAPABILITY
SPAN_ROWS = 4


@requires(CAP)
def worklist(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    overdue = request.GET.get("overdue") == "1"
    patient = request.GET.get("patient", "")
    try:
        if patient:  # a chart's queries: every status, newest first
            rows = services.queries_of_patient(user=request.user, patient_id=patient)
        else:
            rows = services.worklist(user=request.user, status=status, overdue=overdue)
    except (RecordroomError, ValueError, DjangoValidationError) as exc:
        messages.error(request, getattr(exc, "message", "no such patient"))
        status, patient, rows = "", "", services.worklist(user=request.user)
    reads.audit_listed(actor_from_request(request), "queries",
                       [q.patient_id for q in rows])  # fmt: skip
    items = [{"q": q, "name": reads.patient_name(q),
              "escalation": services.escalation_label(q.escalation_level)}
             for q in rows]  # fmt: skip
    return render(request, "web/queries/worklist.html", {
        "items": items, "status": status, "overdue": overdue, "patient": patient,
        "statuses": Status.choices})  # fmt: skip


def _encounter(request: HttpRequest) -> Encounter | None:
    pk = request.POST.get("encounter") or request.GET.get("encounter") or ""
    account = request.GET.get("account", "").strip()
    if not pk and not account:
        return None
    qs = Encounter.objects.select_related("patient", "facility", "attending")
    try:
        enc = qs.filter(pk=pk).first() if pk else qs.filter(
            account_number=account).first()  # fmt: skip
    except Exception:  # a malformed id
        enc = None
    scope = request.user.facility_ids()  # type: ignore[union-attr]
    if enc is None or (scope is not None and enc.facility_id not in scope) or \
            not in_scope(request.user, enc.patient):  # fmt: skip
        raise NotFound(f"no visit {account or pk} at your facilities", field="encounter")
    return enc


def _chart_material(user: Any, enc: Encounter) -> dict[str, Any]:
    """The chart's results and documents (current versions, their text) to pick from,
    those the user may read (sensitivity labels)."""
    observations = list(readable_observations(
        ResultObservation.objects.filter(report__patient_id=enc.patient_id), user)
        .select_related("report").order_by("-effective_at")[:200])  # fmt: skip
    docs = []
    rows = readable_documents(visible_documents(user).filter(
        patient_id=enc.patient_id), user)  # fmt: skip
    for d in rows.select_related("doc_type").order_by("-service_start")[:40]:
        v = current_version(d)
        docs.append({"doc": d, "version": v,
                     "text": services.document_text(v, read_now=d.source != "scan")})  # fmt: skip
    return {"observations": [o for o in observations if o.report.version ==
                             o.report_version], "documents": docs}  # fmt: skip


@requires(CAP)
def new(request: HttpRequest) -> HttpResponse:
    """Raise a query about a visit: opened from the chart (?encounter=) or found by
    its account number."""
    try:
        enc = _encounter(request)
    except RecordroomError as exc:
        messages.error(request, exc.message)
        return redirect("web:queries_new")
    context: dict[str, Any] = {"enc": enc, "form": request.POST or request.GET,
                               "templates": QueryTemplate.objects.filter(active=True),
                               "formats": Format.choices, "purposes": Purpose.choices,
                               "grounds": YesNoGround.choices[1:],
                               "kinds": IndicatorKind.choices,
                               "spans": [{"n": n, "doc": request.POST.get(f"doc_{n}", ""),
                                          "quote": request.POST.get(f"quote_{n}", ""),
                                          "kind": request.POST.get(f"kind_{n}", "finding")}
                                         for n in range(1, SPAN_ROWS + 1)],
                               "chosen": request.POST.getlist("options"),
                               "observations_chosen": request.POST.getlist("observations")}  # fmt: skip
    if enc is None:
        return render(request, "web/queries/new.html", context)
    code = request.POST.get("template") or request.GET.get("template") or ""
    template = QueryTemplate.objects.filter(code=code, active=True).first()
    context.update(_chart_material(request.user, enc))
    context["template"] = template
    context["start"] = services.from_template(template) if template else {
        "format": "open", "purpose": "", "question": "", "menu": [],
        "yes_no_ground": ""}  # fmt: skip
    context["providers"] = Provider.objects.filter(active=True).order_by(
        "family", "given")[:500]  # fmt: skip
    context["name"] = enc.patient.legal_name()
    reads.audit_listed(actor_from_request(request), "query builder", [enc.patient_id])
    if request.method == "POST":
        try:
            q = _raise(request, enc, template)
        except RecordroomError as exc:
            context["errors"] = exc.message.split("; ")
            return render(request, "web/queries/new.html", context, status=400)
        messages.success(request, f"Query {q.number} sent to {q.provider}.")
        return redirect("web:queries_query", query_id=q.pk)
    return render(request, "web/queries/new.html", context)


def _raise(request: HttpRequest, enc: Encounter, template: QueryTemplate | None) -> Any:
    post = request.POST
    try:
        provider = Provider.objects.filter(pk=post.get("provider", "")).first()
    except Exception:  # a malformed id
        provider = None
    if provider is None:
        raise NotFound("choose the provider to ask", field="provider")
    items = [services.IndicatorIn(observation_id=o)
             for o in post.getlist("observations")]  # fmt: skip
    for n in range(1, SPAN_ROWS + 1):
        quote = post.get(f"quote_{n}", "").strip()
        if quote:
            items.append(services.IndicatorIn(
                document_id=post.get(f"doc_{n}", ""), quote=quote,
                kind=post.get(f"kind_{n}", "")))  # fmt: skip
    options = post.getlist("options") + [post.get(f"option_extra_{n}", "")
                                         for n in (1, 2)]  # fmt: skip
    doc = None
    if post.get("document"):
        doc = visible_documents(request.user).filter(
            pk=post["document"], patient_id=enc.patient_id).first()  # fmt: skip
    return services.raise_query(
        actor=actor_from_request(request), encounter=enc, provider=provider,
        question=post.get("question", ""), format=post.get("format", ""),
        purpose=post.get("purpose", ""), options=options,
        yes_no_ground=post.get("yes_no_ground", ""), template=template, document=doc,
        verbal=post.get("verbal") == "1", indicators=items)  # fmt: skip


@requires(CAP)
def query_page(request: HttpRequest, query_id: Any) -> HttpResponse:
    try:
        q = reads.open_query(actor_from_request(request), query_id, part="query")
    except RecordroomError as exc:
        return error_page(request, exc)
    return render(request, "web/queries/query.html", {
        "q": q, "name": reads.patient_name(q), "indicators": q.indicators.all(),
        "escalation": services.escalation_label(q.escalation_level)})  # fmt: skip


@requires(CAP)
def withdraw(request: HttpRequest, query_id: Any) -> HttpResponse:
    if request.method == "POST":
        try:
            q = services.get_query(user=request.user, query_id=query_id)
            services.withdraw_query(actor=actor_from_request(request), query=q,
                                    reason=request.POST.get("reason", ""))  # fmt: skip
            messages.success(request, f"Query {q.number} withdrawn.")
        except RecordroomError as exc:
            messages.error(request, f"Nothing was changed: {exc.message}")
    return redirect("web:queries_query", query_id=query_id)


@requires(CAP)
def agreement(request: HttpRequest, query_id: Any) -> HttpResponse:
    if request.method == "POST":
        try:
            q = services.get_query(user=request.user, query_id=query_id)
            services.record_agreement(actor=actor_from_request(request), query=q,
                                      agreed=request.POST.get("agreed") == "yes")  # fmt: skip
            messages.success(request, "The agreement is recorded.")
        except RecordroomError as exc:
            messages.error(request, f"Nothing was changed: {exc.message}")
    return redirect("web:queries_query", query_id=query_id)


@requires(CAP)
def metrics_page(request: HttpRequest) -> HttpResponse:
    m = metrics.compute(user=request.user,
                        facility=request.GET.get("facility", "").strip().upper())  # fmt: skip
    return render(request, "web/queries/metrics.html", {"m": m})


# --- the provider ----------------------------------------------------------------------


@requires(PROVIDER)
def mine(request: HttpRequest) -> HttpResponse:
    """The provider's open queries, oldest first."""
    try:
        provider = services.my_provider(request.user)
    except RecordroomError as exc:
        return render(request, "web/queries/mine.html", {"problem": exc.message})
    rows = list(services.open_queries_for(provider))
    reads.audit_listed(actor_from_request(request), "my queries",
                       [q.patient_id for q in rows])  # fmt: skip
    return render(request, "web/queries/mine.html", {
        "provider": provider,
        "items": [{"q": q, "name": reads.patient_name(q)} for q in rows]})  # fmt: skip


@requires(PROVIDER)
def answer(request: HttpRequest, query_id: Any) -> HttpResponse:
    """One query addressed to the provider, and the answer form."""
    actor = actor_from_request(request)
    try:
        provider = services.my_provider(request.user)
        q = services.get_query(user=request.user, query_id=query_id)
        if q.provider_id != provider.pk:
            raise NotFound(f"no query {query_id} addressed to you")
    except RecordroomError as exc:
        messages.error(request, exc.message)
        return redirect("web:queries_mine")
    if request.method == "POST":
        try:
            q = services.answer_query(
                actor=actor, query=q, answer=request.POST.get("answer", ""),
                answer_text=request.POST.get("answer_text", ""),
                comment=request.POST.get("comment", ""),
                as_addendum=request.POST.get("as_addendum") == "1")  # fmt: skip
            messages.success(request, f"Your answer to {q.number} is signed and filed "
                                      "in the record.")  # fmt: skip
            return redirect(reverse("web:queries_mine"))
        except RecordroomError as exc:
            messages.error(request, f"Nothing was filed: {exc.message}")
    reads.open_query(actor, q.pk, part="answer form")
    return render(request, "web/queries/answer.html", {
        "q": q, "name": reads.patient_name(q), "indicators": q.indicators.all(),
        "form": request.POST})  # fmt: skip
