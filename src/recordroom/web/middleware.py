"""Trusted proxies, security headers, request id (for the audit trail) and the
second-factor gate for web sessions."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from recordroom.kernel.ids import uuid7
from recordroom.kernel.netaddr import forwarded_client, is_trusted

_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
SESSION_MFA_OK = "recordroom_mfa_ok"
SESSION_PENDING_USER = "recordroom_pending_user"


# Headers only a trusted proxy may set: from anyone else they are dropped, so that
# SECURE_PROXY_SSL_HEADER and the client address cannot be claimed by a client.
_PROXY_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
)


class TrustedProxyMiddleware:
    """Put the real client's address in REMOTE_ADDR (the proxy's stays in
    RECORDROOM_PEER_ADDR) when the peer is a listed proxy; strip X-Forwarded-*
    from any other peer. Runs first, before SecurityMiddleware reads the scheme."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = str(meta.get("REMOTE_ADDR", ""))
        meta["RECORDROOM_PEER_ADDR"] = peer
        trusted = settings.TRUSTED_PROXIES
        if is_trusted(peer, trusted):
            forwarded = str(meta.get("HTTP_X_FORWARDED_FOR", ""))
            meta["REMOTE_ADDR"] = forwarded_client(peer, forwarded, trusted)
        else:
            for name in _PROXY_HEADERS:
                meta.pop(name, None)
        return self.get_response(request)


# Scripts only from our own files (no inline script anywhere, Swagger UI included);
# inline style attributes are allowed because redaction boxes and Swagger UI place
# elements with them. PDFs open in a same-origin frame.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "frame-src 'self'", "object-src 'self'",
    "frame-ancestors 'self'", "base-uri 'self'", "form-action 'self'",
))  # fmt: skip


class SecurityHeadersMiddleware:
    """Content-Security-Policy on pages, and Cache-Control: no-store on everything
    but static files: pages, API, FHIR and downloads all may carry PHI, and no
    browser or proxy cache may keep it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return response
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        if response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class RequestIdMiddleware:
    """Give every request an id (or keep a sane X-Request-ID) and echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid7().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class IdleSessionMiddleware:
    """A session cookie whose session ended by the idle limit: audit that end (R-SEC-1),
    with the user it belonged to, on the request that finds it.

    Only when the session loads empty of a user (it is loaded here as the auth
    middleware would) is the expired row looked up, so live sessions cost nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if key and SESSION_KEY not in request.session:
            from recordroom.accounts.sessions import end_expired_session

            from .request import actor_from_request

            end_expired_session(actor=actor_from_request(request), session_key=key)
        return self.get_response(request)


class SecondFactorMiddleware:
    """Signed-in users whose role requires a second factor must have passed it.

    The sign-in view only logs a user in after the factor; this is the belt to that
    braces, for sessions created any other way (e.g. the admin's own login form).
    """

    EXEMPT = ("/login", "/logout", "/mfa", "/static/", "/api/", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.EXEMPT)
            and not request.session.get(SESSION_MFA_OK)
            and user.requires_mfa()
        ):
            from django.contrib.auth import logout

            logout(request)
            return redirect("web:login")
        return self.get_response(request)
