"""HTTP adapters for system clients: the OAuth2 token endpoint (RFC 6749 §4.4, errors
as §5.2; client secrets or SMART Backend Services assertions) and the SMART
configuration FHIR clients discover it from."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from recordroom.kernel import netaddr
from recordroom.kernel.actor import Actor

from .assertions import ALGORITHMS
from .oauth import GRANT_TYPE, ClientAuth, OAuthError, issue_token
from .throttle import Throttled

FORM = "application/x-www-form-urlencoded"
SCOPES_SUPPORTED = ("system/*.read", "system/*.write", "system/*.rs", "system/*.cruds")
AUTH_REQUIRED = (
    "client authentication is required: HTTP Basic with the client id and secret, "
    "client_id and client_secret form fields, or a signed client_assertion "
    "(private_key_jwt)"
)


def _json(body: dict[str, Any], status: int = 200) -> HttpResponse:
    resp = HttpResponse(json.dumps(body), status=status,
                        content_type="application/json")  # fmt: skip
    # Token responses must not be cached (RFC 6749 §5.1).
    resp["Cache-Control"] = "no-store"
    resp["Pragma"] = "no-cache"
    return resp


def _error(error: str, message: str, status: int = 400) -> HttpResponse:
    resp = _json({"error": error, "error_description": message}, status)
    if status == 401:
        resp["WWW-Authenticate"] = 'Basic realm="recordroom"'
    return resp


def _client_auth(request: HttpRequest) -> ClientAuth:
    """A client_assertion (RFC 7523 §2.2), or else a secret; never both."""
    if "client_assertion" not in request.POST and (
        "client_assertion_type" not in request.POST
    ):
        client_id, secret = _credentials(request)
        if not client_id or not secret:
            raise OAuthError("invalid_client", AUTH_REQUIRED, status=401)
        return ClientAuth(client_id=client_id, secret=secret)
    if request.headers.get("Authorization") or "client_secret" in request.POST:
        raise OAuthError("invalid_request", "use one way to authenticate the client: "
                         "a client_assertion, or its secret (HTTP Basic or "
                         "client_secret), not both")  # fmt: skip
    return ClientAuth(
        client_id=request.POST.get("client_id", ""),
        assertion=request.POST.get("client_assertion", ""),
        assertion_type=request.POST.get("client_assertion_type", ""),
        token_url=token_url(request),
    )


def token_url(request: HttpRequest) -> str:
    """This server's token endpoint as clients reach it: an assertion's aud."""
    return request.build_absolute_uri(reverse("oauth-token"))


def _credentials(request: HttpRequest) -> tuple[str, str]:
    """Client id and secret from HTTP Basic (RFC 6749 §2.3.1) or the form."""
    header = request.headers.get("Authorization", "")
    in_form = "client_secret" in request.POST
    if not header:
        return request.POST.get("client_id", ""), request.POST.get("client_secret", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "authenticate with HTTP Basic (client id "
                         "and secret) or client_id and client_secret form fields",
                         status=401)  # fmt: skip
    if in_form:
        raise OAuthError("invalid_request", "use one way to authenticate the client: "
                         "HTTP Basic or client_secret in the form, not both")  # fmt: skip
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if ":" not in decoded:
        raise OAuthError("invalid_client", "the HTTP Basic credentials are not "
                         "base64 of client_id:client_secret", status=401)  # fmt: skip
    client_id, _, secret = decoded.partition(":")
    form_id = request.POST.get("client_id")
    if form_id is not None and form_id != unquote_plus(client_id):
        raise OAuthError("invalid_request", "client_id in the form differs from "
                         "the one in HTTP Basic")  # fmt: skip
    return unquote_plus(client_id), unquote_plus(secret)


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """POST /oauth/token: an access token for a system client."""
    if request.method != "POST":
        resp = _error("invalid_request", f"POST the form (grant_type={GRANT_TYPE})",
                      status=405)  # fmt: skip
        resp["Allow"] = "POST"
        return resp
    if request.body and request.content_type != FORM:
        return _error("invalid_request", f"send the parameters as {FORM}, "
                      f"not {request.content_type or 'no content type'}")  # fmt: skip
    repeated = sorted(k for k in request.POST if len(request.POST.getlist(k)) > 1)
    if repeated:
        return _error("invalid_request",
                      f"parameters sent more than once: {', '.join(repeated)}")  # fmt: skip
    actor = Actor(
        channel="oauth",
        client_address=netaddr.client_address(request),
        request_id=getattr(request, "request_id", ""),
    )
    try:
        issued = issue_token(
            actor=actor,
            auth=_client_auth(request),
            grant_type=request.POST.get("grant_type", ""),
            scope=request.POST.get("scope"),
        )
    except OAuthError as exc:
        return _error(exc.error, exc.message, exc.status)
    except Throttled as exc:
        resp = _error("temporarily_unavailable", exc.message, 429)
        resp["Retry-After"] = str(exc.retry_after)
        return resp
    return _json({
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    })  # fmt: skip


@require_GET
def smart_configuration(request: HttpRequest) -> HttpResponse:
    """GET /fhir/R4/.well-known/smart-configuration (SMART App Launch 2, §Discovery)."""
    # Backend services only: no authorize endpoint, so no launch, PKCE or OpenID.
    body = {
        "token_endpoint": token_url(request),
        "grant_types_supported": [GRANT_TYPE],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": list(SCOPES_SUPPORTED),
        "capabilities": [
            "client-confidential-symmetric",
            "client-confidential-asymmetric",
            "permission-v1",
            "permission-v2",
        ],
    }
    return HttpResponse(json.dumps(body), content_type="application/json")
