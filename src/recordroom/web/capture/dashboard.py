"""The capture dashboard page: throughput for a chosen period."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from recordroom.capture.dashboard import capture_dashboard
from recordroom.kernel import clock
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.zones import user_zone
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires

PERIODS = {"1": "Today", "7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days"}


def _day(raw: str, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{name} is a date (YYYY-MM-DD), not {raw[:20]!r}",
                               field=name) from None  # fmt: skip


@requires("supervise_capture")
def dashboard(request: HttpRequest) -> HttpResponse:
    """Figures for the period: ?days=7 (default), or ?from=&to= (dates, inclusive)."""
    zone = user_zone(request.user)
    today = clock.today(zone)
    days = request.GET.get("days", "7")
    first = _day(request.GET.get("from", ""), "from")
    last = _day(request.GET.get("to", ""), "to")
    if first is None:
        days = days if days in PERIODS else "7"
        first, last = today - timedelta(days=int(days) - 1), today
    last = last or today
    if last < first:
        raise ValidationFailed("the period ends before it starts", field="to")
    start = clock.start_of_day(first, zone)
    end = clock.start_of_day(last + timedelta(days=1), zone)
    board = capture_dashboard(actor=actor_from_request(request), start=start, end=end)
    return render(request, "web/capture/dashboard.html",
                  {"board": board, "first": first, "last": last, "periods": PERIODS,
                   "days": days if not request.GET.get("from") else ""})  # fmt: skip
