"""The duplicate worklist page: the latest scan's pairs filtered and paged (the
filters live in the URL, so a link shows the same list), assignment of the chosen
pairs, Scan now, and the registrations sent to review that no scan has found."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from recordroom.kernel.errors import RecordroomError, ValidationFailed
from recordroom.mpi.linkage import scan_requests
from recordroom.mpi.models import Facility, PairDecisionKind
from recordroom.mpi.pair_worklist import (
    PAGE_SIZES,
    PairFilter,
    PairPage,
    assign_pairs,
    assignable_users,
    cluster_sizes,
    list_pairs,
    pair_of,
    whole_number,
)
from recordroom.mpi.worklist import latest_scan, review_registrations
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires
from recordroom.web.views_identity import _audit_list, _still_open, weighed

STATUS_OPTIONS = {"unresolved": "Not resolved", "open": "Open",
                  "assigned": "In progress", "deferred": "Deferred",
                  "resolved": "Resolved", "all": "All"}  # fmt: skip
SORT_OPTIONS = {"probability": "Most likely first", "age": "Longest on the worklist",
                "newest": "Newest on the worklist"}  # fmt: skip


def _int(value: str | None, default: int, name: str) -> int:
    number = whole_number(value, name)
    return default if number is None else number


@requires("manage_identity")
def duplicates(request: HttpRequest) -> HttpResponse:
    """Pairs of the latest finished scan, filtered, sorted and paged; below them,
    registrations sent to review that no scan has found."""
    try:
        filters = PairFilter.parse(request.GET)
        number = _int(request.GET.get("page"), 1, "page")
        per_page = _int(request.GET.get("per_page"), 50, "per_page")
        listing = list_pairs(user=request.user, filters=filters, page=number,
                             per_page=per_page)  # fmt: skip
    except ValidationFailed as exc:
        messages.error(request, f"{exc.message}; the filters were cleared.")
        filters = PairFilter()
        listing = list_pairs(user=request.user, filters=filters)
    for row in listing.rows:
        setattr(row, "strongest", weighed(row.evidence)[:3])  # noqa: B010 (display)
    sizes = (cluster_sizes(listing.run, {r.cluster for r in listing.rows
                                         if r.cluster is not None})
             if listing.run else {})  # fmt: skip
    for row in listing.rows:
        size = sizes.get(row.cluster, 2) if row.cluster is not None else 2
        setattr(row, "cluster_size", size)  # noqa: B010
    registrations = _registrations(request)
    listed = [x for r in listing.rows for x in (r.left_id, r.right_id)]
    listed += [x for d in registrations for x in (d.patient_id, d.candidate_id)]
    _audit_list(request, "duplicates", listed)
    scope = request.user.facility_ids()  # type: ignore[union-attr]
    facilities = Facility.objects.order_by("code")
    if scope is not None:
        facilities = facilities.filter(pk__in=scope)
    context = {
        "listing": listing, "filters": filters, "registrations": registrations,
        "links": _links(listing), "query": urlencode(_query(listing)),
        "facilities": facilities, "users": assignable_users(request.user),
        "status_options": STATUS_OPTIONS, "sort_options": SORT_OPTIONS,
        "page_sizes": PAGE_SIZES, "scan": scan_requests.scan_state(),
        "may_scan": scan_requests.may_scan(request.user),
        "filtered": bool(filters.params()),
    }  # fmt: skip
    return render(request, "web/worklist/duplicates.html", context)


def _query(listing: PairPage, page: int | None = None) -> dict[str, str]:
    out = listing.filters.params()
    if listing.per_page != 50:
        out["per_page"] = str(listing.per_page)
    if (page or listing.page) != 1:
        out["page"] = str(page or listing.page)
    return out


def _links(listing: PairPage) -> dict[str, str]:
    """The pager's links, filters kept."""
    base = reverse("web:identity_duplicates")
    wanted = {"first": 1, "previous": listing.page - 1, "next": listing.page + 1,
              "last": listing.pages}  # fmt: skip
    return {
        name: f"{base}?{urlencode(_query(listing, page))}".rstrip("?")
        for name, page in wanted.items()
        if 1 <= page <= listing.pages and page != listing.page
    }


def _registrations(request: HttpRequest) -> list[Any]:
    run = latest_scan()
    return [
        d for d in review_registrations(run, request.user,
                                        settling=(PairDecisionKind.LINKED,))
        .select_related("patient", "candidate", "facility")
        .prefetch_related("patient__names", "candidate__names")
        .order_by("decided_at")[:100]
        if _still_open(d, d.patient_id, d.candidate_id)
    ]  # fmt: skip


def _back(request: HttpRequest) -> HttpResponse:
    """To the list the form was sent from (its filters and page only)."""
    sent = QueryDict(request.POST.get("query", ""))
    keep = {k: sent[k] for k in DEFAULT_KEYS if sent.get(k)}
    url = reverse("web:identity_duplicates")
    return redirect(f"{url}?{urlencode(keep)}" if keep else url)


DEFAULT_KEYS = (*PairFilter.__dataclass_fields__, "page", "per_page")


@requires("manage_identity")
def assign(request: HttpRequest) -> HttpResponse:
    """POST: give the chosen pairs (or the one `only`) to a specialist, to me, or
    take them back."""
    if request.method != "POST":
        return redirect("web:identity_duplicates")
    post = request.POST
    chosen = [post["only"]] if post.get("only") else post.getlist("pair")
    how = "me" if post.get("only") else post.get("action", "")
    assignee = {"me": "me", "unassign": None}.get(how, post.get("assignee", ""))
    try:
        if how == "assign" and not assignee:
            raise ValidationFailed("choose whom to assign the pairs to",
                                   field="assignee")  # fmt: skip
        if not chosen:
            raise ValidationFailed("choose at least one pair (tick its box)",
                                   field="pairs")  # fmt: skip
        pairs = [pair_of(_int(p, 0, "pair")) for p in chosen]
        count = assign_pairs(actor=actor_from_request(request), pairs=pairs,
                             assignee=assignee)  # fmt: skip
    except RecordroomError as exc:
        messages.error(request, exc.message)
    else:
        plural = "pair" if count == 1 else "pairs"
        if assignee is None:
            messages.success(request, f"{count} {plural} taken back: open again.")
        else:
            who = "you" if assignee == "me" else assignee
            messages.success(request, f"{count} {plural} assigned to {who}.")
    return _back(request)


@requires("manage_identity")
def scan_now(request: HttpRequest) -> HttpResponse:
    """POST: queue a scan of the whole index for the worker (one at a time)."""
    if request.method != "POST":
        return redirect("web:identity_duplicates")
    try:
        req, new = scan_requests.request_scan(actor=actor_from_request(request))
    except RecordroomError as exc:
        messages.error(request, exc.message)
    else:
        if new:
            messages.success(request, "Scan started. The list is replaced when it "
                             "finishes; reload the page to follow it.")  # fmt: skip
        else:
            messages.info(request, f"A scan is already under way (asked for by "
                          f"{req.requested_by}); no second one was started.")  # fmt: skip
    return _back(request)
