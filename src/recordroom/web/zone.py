"""Pages are shown on the signed-in user's facility's clock: a date or time that a
template prints with `|date` is that facility's, and a page about one request or
patient switches to that facility's zone itself (`{% timezone req|zone %}`)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from recordroom.kernel import clock
from recordroom.mpi.zones import user_zone


class FacilityZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(clock.zone_of(user_zone(user)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
