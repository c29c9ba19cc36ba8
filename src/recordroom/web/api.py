"""The JSON API at /api/v1: each app's router, bearer-token or session auth, and errors
as JSON (`{"error": code, "message": ..., "field": ...}`).

Every route declares the one capability it needs, as data on the route
(`openapi_extra={"x-capability": "view_chart"}`, shown in the OpenAPI schema); this
module records the declarations in ROUTE_CAPABILITIES when the routes are bound and
checks them with accounts.permissions.require right after authentication, before the
request is parsed. A route without a known capability refuses to start.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, ConfigError, HttpError
from ninja.errors import ValidationError as RequestInvalid
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from recordroom.accounts import permissions
from recordroom.accounts.roles import PERMISSIONS
from recordroom.accounts.services import Throttled, authenticate_token
from recordroom.amendments.api import router as amendments_router
from recordroom.audit.api import router as audit_router
from recordroom.audit.refusals import audit_refusal, refusal_of
from recordroom.capture.api import router as capture_router
from recordroom.capture.api_queue import router as capture_queue_router
from recordroom.coding.api import router as coding_router
from recordroom.completion.api import router as completion_router
from recordroom.completion.api_delinquency import router as delinquency_router
from recordroom.completion.inbox_api import router as inbox_router
from recordroom.interop.hl7v2.api import router as interfaces_router
from recordroom.kernel import uploads
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, RecordroomError
from recordroom.mpi.api import router as mpi_router
from recordroom.mpi.api_worklist import router as worklist_router
from recordroom.queries.api import router as queries_router
from recordroom.records.api import router as records_router
from recordroom.release.api import router as release_router
from recordroom.web.middleware import SESSION_MFA_OK
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import patient_in_url

logger = logging.getLogger(__name__)

CAPABILITY = "x-capability"
SIGNED_IN = "signed_in"  # any authenticated user, whatever the role
# (METHOD, path) -> capability, filled as routes are bound (the permission tests read it)
ROUTE_CAPABILITIES: dict[tuple[str, str], str] = {}
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class Unauthenticated(RecordroomError):
    code = "unauthenticated"
    status = 401


class CsrfFailed(RecordroomError):
    code = "csrf_failed"
    status = 403


def _authorize(request: HttpRequest, user: Any) -> Actor:
    """Check the route's capability for an authenticated user; the Actor becomes
    `request.auth` for the route."""
    capability = getattr(request, "recordroom_capability", None)
    if capability is None:  # cannot happen for bound routes; refuse rather than allow
        raise PermissionDenied("this API route declares no capability")
    request.recordroom_user = user  # type: ignore[attr-defined]  # a refusal's actor
    if capability != SIGNED_IN:
        permissions.require(user, capability)
    return actor_from_request(request, channel="api", user=user)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer rr_<prefix>_<secret>` (recordroom token create USERNAME)."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor:
        actor = actor_from_request(request, channel="api")
        try:  # counts, audits and throttles failures (Throttled is a 429)
            user = authenticate_token(actor=actor, token=token)
        except PermissionDenied as exc:  # unknown, revoked, expired: the reason is kept
            raise Unauthenticated(exc.message) from None
        return _authorize(request, user)


class SessionAuth(APIKeyCookie):
    """The web app's signed-in session, so pages can fetch JSON.

    Unsafe methods need the CSRF token (X-CSRFToken header); a session that has not
    passed a required second factor is refused (the web middleware exempts /api/).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Actor | None:
        # The session middleware has already resolved the cookie to request.user.
        return self.authenticate(request, None)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not request.session.get(SESSION_MFA_OK) and user.requires_mfa():
            raise Unauthenticated(
                "this session has not passed its second factor; sign in again"
            )
        if request.method not in _SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed(
                "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken "
                "header, or use a bearer token"
            )
        return _authorize(request, user)


def _declare_capability(
    run: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Bound to every operation ("view" decorator): record and enforce its capability."""
    operation = getattr(run, "__self__", None)
    capability = (getattr(operation, "openapi_extra", None) or {}).get(CAPABILITY)
    where = f"{getattr(operation, 'methods', '?')} {getattr(operation, 'path', '?')}"
    if capability != SIGNED_IN and capability not in PERMISSIONS:
        raise ConfigError(
            f"API route {where} must declare openapi_extra={{'{CAPABILITY}': ...}} with "
            f"'{SIGNED_IN}' or one of {', '.join(PERMISSIONS)}; got {capability!r}"
        )
    for method in operation.methods:  # type: ignore[union-attr]
        ROUTE_CAPABILITIES[(method, operation.path)] = capability  # type: ignore[union-attr]
    needs = "any signed-in user" if capability == SIGNED_IN else PERMISSIONS[capability]
    operation.description = (  # type: ignore[union-attr]
        f"{operation.description or ''}\n\nRequires: {needs} (`{capability}`).".strip()  # type: ignore[union-attr]
    )

    @functools.wraps(run)
    def run_with_capability(
        request: HttpRequest, *args: Any, **kw: Any
    ) -> HttpResponse:
        request.recordroom_capability = capability  # type: ignore[attr-defined]
        return run(request, *args, **kw)

    return run_with_capability


class RecordroomAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts: list[Any]) -> Any:
        """Name body fields as the client sent them: ninja nests a single body schema
        under the route parameter's name ("data.names.0.family"), so drop it."""
        error = super().validation_error_from_error_contexts(error_contexts)
        wrappers = {
            getattr(c.model, "__read_from_single_attr__", None) for c in error_contexts
        }
        for item in error.errors:
            loc = tuple(item["loc"])
            if loc[0] == "body" and len(loc) > 1 and loc[1] in wrappers:
                item["loc"] = ("body", *loc[2:])
        return error


api = RecordroomAPI(
    title="Recordroom API",
    version="1",
    description=(
        "The medical records department's system. Authenticate with "
        "`Authorization: Bearer rr_...` (`recordroom token create USERNAME`) or a "
        'signed-in session. Errors are `{"error", "message", "field"}`.'
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
)
api.add_decorator(_declare_capability, mode="view")
api.add_router("", records_router)
api.add_router("", mpi_router)
api.add_router("", worklist_router)
api.add_router("", audit_router)
api.add_router("", interfaces_router)
api.add_router("", release_router)
api.add_router("", amendments_router)
api.add_router("", capture_queue_router)
api.add_router("", capture_router)
api.add_router("", completion_router)
api.add_router("", inbox_router)
api.add_router("", coding_router)
api.add_router("", delinquency_router)
api.add_router("", queries_router)


# --- errors ----------------------------------------------------------------------------


def _error(
    request: HttpRequest, status: int, code: str, message: str, field: str | None = None,
    **extra: Any,
) -> HttpResponse:  # fmt: skip
    body = {"error": code, "message": message, "field": field, **extra}
    response = api.create_response(request, body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="recordroom"'
    return response


@api.exception_handler(RecordroomError)
def _domain_error(request: HttpRequest, exc: RecordroomError) -> HttpResponse:
    """A domain error as JSON; a refused attempt is audited first (access.denied)."""
    if refusal_of(exc) is not None:
        actor = getattr(request, "auth", None)
        if not isinstance(actor, Actor):  # refused before the route got its actor
            actor = actor_from_request(
                request, channel="api", user=getattr(request, "recordroom_user", None)
            )
        audit_refusal(actor=actor, exc=exc, path=request.path,
                      patient_id=_patient_param(request))  # fmt: skip
    return _error(request, exc.status, exc.code, exc.message, exc.field)


def _patient_param(request: HttpRequest) -> Any:
    return (
        patient_in_url(request)
        or request.GET.get("patient")
        or request.GET.get("patient_id")
    )


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = _error(request, exc.status, exc.code, exc.message, exc.field)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])


@api.exception_handler(RequestInvalid)
def _invalid(request: HttpRequest, exc: RequestInvalid) -> HttpResponse:
    if (refused := uploads.refusal(request)) is not None:
        # The file is missing because reading stopped at the size limit: say that.
        return _domain_error(request, refused)
    errors = [
        {"field": _field(tuple(e["loc"])), "in": e["loc"][0], "message": e["msg"]}
        for e in exc.errors
    ]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    first = errors[0]["field"] if errors else None
    return _error(request, 422, "invalid", message or "the request is not valid", first,
                  errors=errors)  # fmt: skip


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return _error(
            request, 400, "malformed_json",
            f"the request body is not valid JSON: {cause.msg} at line {cause.lineno}, "
            f"column {cause.colno}",
            "body",
        )  # fmt: skip
    if isinstance(cause, UnicodeDecodeError):
        return _error(
            request, 400, "malformed_json", "the request body is not UTF-8", "body"
        )
    if isinstance(exc, AuthenticationError):
        return _error(
            request, 401, "unauthenticated",
            "authentication required: send 'Authorization: Bearer <token>' (recordroom "
            "token create USERNAME) or sign in to the web app",
        )  # fmt: skip
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return _error(request, 413, "too_large", f"the request is too large: {exc}")
    return _error(request, 400, "bad_request", str(exc))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    request_id = getattr(request, "request_id", "")
    logger.exception("API request %s failed", request_id, exc_info=exc)
    return _error(
        request, 500, "server_error",
        f"the server failed to handle this request; quote request id {request_id} "
        "to your administrator",
    )  # fmt: skip


# --- who am I --------------------------------------------------------------------------


class MeOut(Schema):
    username: str
    roles: list[str]
    facilities: list[str] | None
    all_facilities: bool
    capabilities: list[str]


@api.get(
    "/me", response=MeOut, tags=["accounts"], openapi_extra={CAPABILITY: SIGNED_IN}
)
def me(request: HttpRequest) -> dict[str, Any]:
    """Who the API sees: roles, facilities in scope (null means all) and capabilities."""
    user = request.auth.user  # type: ignore[attr-defined]
    scope = user.facility_ids()
    return {
        "username": user.username,
        "roles": user.role_names(),
        "facilities": None
        if scope is None
        else sorted(user.facilities.values_list("code", flat=True)),
        "all_facilities": scope is None,
        "capabilities": [c for c in PERMISSIONS if permissions.has(user, c)],
    }


def route_capabilities() -> dict[tuple[str, str], str]:
    """(METHOD, path) -> capability of every route (what the permission tests read)."""
    if not ROUTE_CAPABILITIES:
        _ = api.urls  # binding the routes runs _declare_capability on each
    return dict(ROUTE_CAPABILITIES)
