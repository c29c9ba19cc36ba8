"""System clients: OAuth2 client credentials (RFC 6749 §4.4) with SMART scopes.

Registration and revocation, the token grant (a client secret or a SMART Backend
Services `private_key_jwt` assertion), and `authenticate_bearer`, the one check the
FHIR API makes of a bearer token (a user's API token or a client's access token).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import CLIENT_USER_PREFIX, Actor
from recordroom.kernel.errors import (
    NotFound,
    PermissionDenied,
    RecordroomError,
    ValidationFailed,
)

from .assertions import AssertionRefused, client_for_assertion, key_ids, parse_jwks
from .models import AccessToken, ApiClient, User
from .scopes import Scope, format_scopes, narrow, parse_grantable, parse_scopes
from .services import TOKEN_PREFIX, authenticate_token, create_user
from .throttle import check_credential, credential_refused

CLIENT_ID_PREFIX = "rrc_"
ACCESS_TOKEN_PREFIX = "rrat_"
GRANT_TYPE = "client_credentials"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


class OAuthError(RecordroomError):
    """An error of the token endpoint (RFC 6749 §5.2); `error` is its code."""

    def __init__(self, error: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.error = error
        self.status = status


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    secret: str  # shown once; only its digest is kept ("" for a client with keys)


@dataclass(frozen=True)
class ClientAuth:
    """How a client authenticated at the token endpoint: a secret or an assertion."""

    client_id: str = ""
    secret: str = ""
    assertion: str = ""
    assertion_type: str = ""
    token_url: str = ""  # the aud an assertion must name


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int  # seconds
    scope: str


@dataclass(frozen=True)
class Bearer:
    """Who a bearer token speaks for. `scopes` None: all the user's role allows."""

    user: User
    scopes: tuple[str, ...] | None = None
    client_id: str | None = None

    def acting(self, actor: Actor) -> Actor:
        """The request's actor as this bearer (audit rows name the client)."""
        return replace(
            actor, user=self.user, client_id=self.client_id or "", scopes=self.scopes
        )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_client(
    *,
    actor: Actor,
    name: str,
    role: str,
    scopes: str,
    facility_codes: list[str] | None = None,
    all_facilities: bool = False,
    jwks: str | None = None,
) -> NewClient:
    """Register a system client acting as a new service user `client:<name>`.

    The role and facilities bound what the client may ever see, as for a person;
    `scopes` (SMART, space-separated) narrow that further. Given `jwks` (its public
    keys), the client authenticates with signed assertions only and has no secret.

    Raises:
        ValidationFailed: bad name, scope, role, facility choice or JWKS, or a taken
            name.
        NotFound: an unknown facility code.
    """
    name = (name or "").strip()
    if not _NAME.fullmatch(name):
        raise ValidationFailed(
            f"client name '{name}' is not usable: use 1 to 63 letters, digits, '.', "
            "'_' or '-', starting with a letter or digit (e.g. lab-interface)",
            field="name",
        )
    granted = parse_grantable(scopes)
    if not granted:
        raise ValidationFailed(
            "give the scopes the client may ask for (e.g. system/*.read)",
            field="scope",
        )
    if bool(facility_codes) == all_facilities:
        raise ValidationFailed(
            "give either the facility codes whose records the client may reach, "
            "or all facilities (not both)",
            field="facility",
        )
    keys = parse_jwks(jwks) if jwks is not None else ""
    with transaction.atomic():
        if ApiClient.objects.filter(name=name).exists():
            raise ValidationFailed(f"a client named '{name}' exists", field="name")
        user = create_user(
            actor=actor,
            username=f"{CLIENT_USER_PREFIX}{name}",
            role=role,
            facility_codes=facility_codes,
            all_facilities=all_facilities,
        )
        secret = "" if keys else secrets.token_urlsafe(32)
        client = ApiClient.objects.create(
            client_id=f"{CLIENT_ID_PREFIX}{secrets.token_hex(12)}",
            name=name,
            user=user,
            secret_digest=_digest(secret) if secret else "",
            scopes=format_scopes(granted),
            jwks=keys,
        )
        detail = {
            "client_id": client.client_id,
            "name": name,
            "role": role,
            "scopes": client.scopes,
            "facilities": "all" if all_facilities else facility_codes,
        }
        if keys:
            detail["kids"] = key_ids(keys)
        record(
            actor=actor, action=actions.CLIENT_CREATED.name, obj=client, detail=detail
        )
    return NewClient(client, secret)


def set_client_jwks(*, actor: Actor, client_id: str, jwks: str) -> ApiClient:
    """Register (or replace) the public keys a client signs its assertions with.

    The client's secret, if it has one, keeps working beside them.

    Raises:
        ValidationFailed: the JWKS is not usable; the message names the key.
        NotFound: no active client with that client_id.
    """
    keys = parse_jwks(jwks)
    with transaction.atomic():
        client = _active_client_to_change(client_id)
        before = key_ids(client.jwks) if client.jwks else []
        client.jwks = keys
        client.save(update_fields=["jwks"])
        record(
            actor=actor,
            action=actions.CLIENT_KEYS.name,
            obj=client,
            detail={"client_id": client_id, "name": client.name,
                    "kids": key_ids(keys), "replaced_kids": before},
        )  # fmt: skip
    return client


def _active_client_to_change(client_id: str) -> ApiClient:
    """The active client, locked for the caller's transaction."""
    client = (
        ApiClient.objects.select_for_update()
        .filter(client_id=client_id, active=True)
        .first()
    )
    if client is None:
        raise NotFound(f"no active client with client_id '{client_id}'")
    return client


def revoke_client(*, actor: Actor, client_id: str) -> ApiClient:
    """Deactivate a client: no new tokens, and the ones it holds stop working."""
    with transaction.atomic():
        client = _active_client_to_change(client_id)
        client.active = False
        client.save(update_fields=["active"])
        record(
            actor=actor,
            action=actions.CLIENT_REVOKED.name,
            obj=client,
            detail={"client_id": client_id, "name": client.name},
        )
    return client


# --- the token grant ----------------------------------------------------------------


def issue_token(
    *,
    actor: Actor,
    auth: ClientAuth,
    grant_type: str,
    scope: str | None = None,
) -> IssuedToken:
    """The client credentials grant: check the client, grant scopes, issue a token.

    The client authenticates with its secret or with a `private_key_jwt` assertion
    (SMART Backend Services). The scopes granted are those asked for cut down to
    those the client holds (all it holds when none are asked for). A refused client
    is a failed sign-in from the caller's address, counted like passwords and API
    tokens; the right credential is accepted whatever others sent from that address.

    Raises:
        Throttled: the client is refused and its address has too many failures.
        OAuthError: invalid_request, unsupported_grant_type, invalid_client (401),
            invalid_grant (a revoked client or disabled service user), invalid_scope.
    """
    if not grant_type:
        raise OAuthError(
            "invalid_request", f"grant_type is missing; send grant_type={GRANT_TYPE}"
        )
    if grant_type != GRANT_TYPE:
        raise OAuthError(
            "unsupported_grant_type",
            f"grant_type '{grant_type[:64]}' is not supported; use {GRANT_TYPE}",
        )
    client, method = _authenticate_client(actor, auth)
    granted = _grant(client, scope)
    token = f"{ACCESS_TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
    now = timezone.now()
    minutes = settings.OAUTH_TOKEN_MINUTES
    text = format_scopes(granted)
    with transaction.atomic():
        AccessToken.objects.filter(client=client, expires_at__lte=now).delete()
        row = AccessToken.objects.create(
            client=client,
            digest=_digest(token),
            scopes=text,
            issued_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        bearer = Bearer(client.user, tuple(str(s) for s in granted), client.client_id)
        record(
            actor=bearer.acting(actor),
            action=actions.CLIENT_TOKEN.name,
            obj=client,
            detail={"scope": text, "expires_at": row.expires_at.isoformat(), **method},
        )
    return IssuedToken(token, minutes * 60, text)


def _authenticate_client(
    actor: Actor, auth: ClientAuth
) -> tuple[ApiClient, dict[str, str]]:
    """The client and how it proved itself, for the audit row."""
    if auth.assertion or auth.assertion_type:
        try:
            asserted = client_for_assertion(
                assertion=auth.assertion,
                assertion_type=auth.assertion_type,
                client_id=auth.client_id,
                token_url=auth.token_url,
            )
        except AssertionRefused as exc:
            _refuse(actor, exc.client_id, "invalid_client", exc.message, status=401)
        client = asserted.client
        method = {"auth": "private_key_jwt", "kid": asserted.kid, "alg": asserted.alg}
    else:
        client = _client_by_secret(actor, auth.client_id, auth.secret)
        method = {"auth": "client_secret"}
    if not client.active:
        _refuse(actor, client.client_id, "invalid_grant",
                f"client '{client.name}' was revoked; ask an administrator to "
                "register a new client")  # fmt: skip
    if not client.user.is_active:
        _refuse(actor, client.client_id, "invalid_grant",
                f"the service user '{client.user.username}' of client "
                f"'{client.name}' is disabled; ask an administrator")  # fmt: skip
    return client, method


def _client_by_secret(actor: Actor, client_id: str, secret: str) -> ApiClient:
    client = (
        ApiClient.objects.select_related("user").filter(client_id=client_id).first()
        if client_id
        else None
    )
    if client is not None and not client.secret_digest:
        _refuse(actor, client_id, "invalid_client",
                f"client '{client.name}' has no secret; it authenticates with a "
                "signed assertion (private_key_jwt)", status=401)  # fmt: skip
    digest = _digest(secret or "")
    if client is None or not secrets.compare_digest(client.secret_digest, digest):
        _refuse(actor, client_id, "invalid_client",
                "the client id or secret is not valid", status=401)  # fmt: skip
    return client


def _refuse(
    actor: Actor, client_id: str, error: str, message: str, *, status: int = 400
) -> NoReturn:
    credential_refused(
        actor, method="oauth client", reason=message, client_id=client_id[:64]
    )
    raise OAuthError(error, message, status=status)


def _grant(client: ApiClient, scope: str | None) -> tuple[Scope, ...]:
    held = parse_scopes(client.scopes)
    if not scope or not scope.strip():
        return held
    try:
        wanted = parse_grantable(scope)
    except ValidationFailed as exc:
        raise OAuthError("invalid_scope", exc.message) from None
    granted = narrow(wanted, held)
    if not granted:
        raise OAuthError(
            "invalid_scope",
            f"client '{client.name}' holds none of the scopes asked for "
            f"({format_scopes(wanted)}); it may ask for: {client.scopes}",
        )
    return granted


# --- bearer tokens at the FHIR API --------------------------------------------------


def authenticate_bearer(*, actor: Actor, token: str) -> Bearer:
    """Who a bearer token speaks for: a user's API token (`rr_...`, every scope its
    role allows) or a client's access token (`rrat_...`, its granted scopes).

    Refusals are failed sign-ins from the caller's address, counted and audited with
    their reason (never the token); a valid token is never refused for them.

    Raises:
        Throttled: the token is refused and its address has too many failures.
        PermissionDenied: the token is malformed, unknown, expired or revoked, or its
            user or client is disabled; the message says which (a 401).
    """
    token = (token or "").strip()
    if token.startswith(TOKEN_PREFIX):
        return Bearer(authenticate_token(actor=actor, token=token))
    return check_credential(
        actor, method="oauth access token", check=lambda: _bearer_for(token)
    )


def _bearer_for(token: str) -> Bearer:
    if not token.startswith(ACCESS_TOKEN_PREFIX):
        raise PermissionDenied(
            "the bearer token is malformed; send an API token (rr_...) or an access "
            f"token from /oauth/token ({ACCESS_TOKEN_PREFIX}...)"
        )
    row = (
        AccessToken.objects.select_related("client__user")
        .filter(digest=_digest(token))
        .first()
    )
    if row is None:
        raise PermissionDenied("the access token is not valid")
    client, now = row.client, timezone.now()
    if row.expires_at <= now:
        raise PermissionDenied(
            f"the access token expired at {row.expires_at:%Y-%m-%d %H:%M:%S} UTC; "
            "get a new one from /oauth/token"
        )
    if not client.active:
        raise PermissionDenied(f"client '{client.name}' was revoked")
    if not client.user.is_active:
        raise PermissionDenied(
            f"the service user '{client.user.username}' of client '{client.name}' "
            "is disabled"
        )
    if client.last_used_at is None or now - client.last_used_at > timedelta(minutes=5):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    # An administrator may have narrowed the client since the token was issued.
    scopes = narrow(parse_scopes(row.scopes), parse_scopes(client.scopes))
    return Bearer(client.user, tuple(str(s) for s in scopes), client.client_id)
