"""The MPI dashboard page: duplicate rates, the worklist's size and age, and the
day's sample of automatic links, each judged correct or wrong here."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from recordroom.kernel.errors import NotFound, RecordroomError
from recordroom.mpi.dashboard import measures
from recordroom.mpi.linkage.models import MatchDecision
from recordroom.mpi.linkage.registration import review_link, thresholds_for
from recordroom.mpi.models import Patient
from recordroom.mpi.services import identifiers_in_scope
from recordroom.web.request import actor_from_request

from .views_common import requires
from .views_identity import _audit_list, weighed


@requires("manage_identity")
def dashboard(request: HttpRequest) -> HttpResponse:
    """The measures for the user's facilities; POST records a verdict on one
    sampled automatic link."""
    if request.method == "POST":
        try:
            verdict = _review(request)
        except RecordroomError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Recorded: {verdict}.")
        return redirect("web:identity_dashboard")
    board = measures(request.user)
    sample = board.links.sample
    _audit_list(request, "dashboard", [d.patient_id for d in sample])
    context = {"board": board, "sample": _with_charts(request, sample),
               "review_threshold": thresholds_for(None).review}  # fmt: skip
    return render(request, "web/identity_dashboard.html", context)


def _review(request: HttpRequest) -> str:
    try:
        decision = MatchDecision.objects.select_related("patient").get(
            pk=UUID(request.POST.get("decision", ""))
        )
    except (ValueError, MatchDecision.DoesNotExist):
        raise NotFound(
            f"no registration decision {request.POST.get('decision', '')!r:.40}"
        ) from None
    done = review_link(actor=actor_from_request(request), decision=decision,
                       verdict=request.POST.get("verdict", ""),
                       note=request.POST.get("note", ""))  # fmt: skip
    return str(done.get_review_display())


def _with_charts(
    request: HttpRequest, sample: list[MatchDecision]
) -> list[dict[str, Any]]:
    """Each sampled link with its chart as the reviewer may see it (identifiers of
    their facilities) and its evidence, the weightiest first."""
    rows = Patient.objects.filter(pk__in=[d.patient_id for d in sample])
    charts = {p.pk: p for p in rows.prefetch_related(
        "names", "addresses",
        Prefetch("identifiers", queryset=identifiers_in_scope(request.user)),
    )}  # fmt: skip
    scope = request.user.facility_ids()  # type: ignore[union-attr]
    out = []
    for d in sample:
        chart = charts[d.patient_id]
        # what the registration brought, as far as the reviewer may see it: an MRN
        # of another facility would disclose care there (R-MIN-1)
        shown = [i for i in chart.identifiers.all() if i.value in d.identifiers_added]
        out.append({"decision": d, "chart": chart, "evidence": weighed(d.evidence),
                    "brought": shown, "at": d.facility if scope is None
                    or d.facility_id in scope else None,
                    "brought_elsewhere": len(d.identifiers_added) - len(shown)})  # fmt: skip
    return out
