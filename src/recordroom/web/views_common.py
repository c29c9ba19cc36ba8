"""What every page shares: the access each view declares, and domain errors as pages.

A view states its access once with `@requires(...)`; the decorator enforces it and
records it on the view function, so the permission tests read the same declaration.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from recordroom.accounts import permissions
from recordroom.accounts.roles import PERMISSIONS
from recordroom.audit.models import Outcome
from recordroom.audit.refusals import audit_refusal
from recordroom.audit.services import record
from recordroom.kernel.errors import (
    IntegrityFailure,
    NotFound,
    PermissionDenied,
    RecordroomError,
)
from recordroom.web.request import actor_from_request

PUBLIC = "public"  # anyone, signed in or not (sign-in pages, readiness check)
SIGNED_IN = "signed_in"  # any signed-in user, whatever the role (sign-out)
ACCESS_LEVELS = (PUBLIC, SIGNED_IN)

View = Callable[..., HttpResponse]

_TITLES = {
    400: "That request cannot be handled",
    403: "Not permitted",
    404: "Not found",
    413: "File too large",
    422: "Check what was entered",
    409: "Conflict",
    500: "The record cannot be shown",
}


def requires(access: str) -> Callable[[View], View]:
    """Declare and enforce who may open a page: PUBLIC, SIGNED_IN or a capability.

    Capabilities are the codenames in accounts.roles.PERMISSIONS. Anonymous users are
    sent to sign in; a signed-in user without the capability gets a 403 page naming
    it, audited as access.denied.
    """
    if access not in ACCESS_LEVELS and access not in PERMISSIONS:
        raise ValueError(
            f"unknown access {access!r}; use PUBLIC, SIGNED_IN or a capability"
        )

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if access != PUBLIC and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                if access in PERMISSIONS:
                    permissions.require(request.user, access)
                return view(request, *args, **kwargs)
            except RecordroomError as exc:
                return error_page(request, exc)

        guarded.access = access  # type: ignore[attr-defined]
        return guarded

    return decorate


def audit_page_refusal(request: HttpRequest, exc: BaseException) -> None:
    """Audit a refused attempt made from a page (access.denied), once."""
    audit_refusal(
        actor=actor_from_request(request),
        exc=exc,
        path=request.path,
        patient_id=patient_in_url(request),
    )


def patient_in_url(request: HttpRequest) -> Any:
    """The patient id a URL names (a `...patient...` path parameter), if any."""
    match = getattr(request, "resolver_match", None)
    for name, value in (match.kwargs if match else {}).items():
        if "patient" in name:
            return value
    return None


def error_page(request: HttpRequest, exc: RecordroomError) -> HttpResponse:
    """Render a domain error as a page with its status and message; a refusal is
    audited first (access.denied)."""
    audit_page_refusal(request, exc)
    status = exc.status
    if isinstance(exc, PermissionDenied):
        status = 403
    elif isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, IntegrityFailure):
        status = 500
    context = {
        "title": _TITLES.get(status, "Something went wrong"),
        "message": exc.message,
        "status": status,
        "integrity": isinstance(exc, IntegrityFailure),
    }
    return render(request, "web/error.html", context, status=status)


@contextmanager
def denial_audited(
    request: HttpRequest, *, action: str, patient: Any
) -> Iterator[None]:
    """Run a scope-checked read; a PermissionDenied from it is audited, then re-raised."""
    try:
        yield
    except PermissionDenied as exc:
        audit_denied(request, action=action, patient=patient, exc=exc)
        raise


def audit_denied(
    request: HttpRequest,
    *,
    action: str,
    patient: Any,
    exc: PermissionDenied,
    **detail: Any,
) -> None:
    """Audit a refused attempt to open a patient's record (scope check failed)."""
    record(
        actor=actor_from_request(request),
        action=action,
        patient=patient,
        outcome=Outcome.DENIED,
        detail={"reason": exc.message, **detail},
    )
    exc.audited = True
