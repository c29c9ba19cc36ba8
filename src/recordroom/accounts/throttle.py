"""Sign-in throttling: failed attempts counted per user name and per address, and the
per-address lockout that passwords, API tokens and OAuth2 clients share (R-SEC-1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, RecordroomError

from .models import LoginFailure

T = TypeVar("T")


class Throttled(RecordroomError):
    """Too many recent failed sign-ins: refused until the lockout passes."""

    code = "throttled"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds


def recent_failures() -> QuerySet[LoginFailure]:
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    return LoginFailure.objects.filter(at__gte=since)


def address_throttled(address: str) -> bool:
    # An address gets more tries than an account: several people may share it (NAT).
    limit = settings.LOGIN_MAX_FAILURES * 4
    return recent_failures().filter(client_address=address).count() >= limit


def user_throttled(username: str, address: str) -> bool:
    limit = settings.LOGIN_MAX_FAILURES
    return recent_failures().filter(
        username=username
    ).count() >= limit or address_throttled(address)


def credential_failed(actor: Actor, *, method: str, reason: str, **detail: str) -> None:
    """Count and audit a refused machine credential (API token, OAuth2 client or
    access token). No user name is counted: a bad credential names nobody, and a
    revoked one must not lock its owner out of password sign-in."""
    with transaction.atomic():
        LoginFailure.objects.create(
            username="", client_address=actor.client_address, at=timezone.now()
        )
        record(
            actor=actor,
            action=actions.LOGIN_FAILED.name,
            outcome=Outcome.DENIED,
            detail={"method": method, "reason": reason, **detail},
        )


def refuse_locked_out_address(actor: Actor, *, method: str) -> None:
    """Raise Throttled (counted and audited) while the actor's address is locked out.

    Once an address has too many recent failures (passwords and machine credentials
    alike), everything it sends is refused, valid credentials too, until the lockout
    passes.
    """
    if not address_throttled(actor.client_address):
        return
    credential_failed(actor, method=method, reason="throttled")
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    raise Throttled(
        f"too many failed sign-ins from address {actor.client_address or '?'}; "
        f"try again in {minutes} minutes or ask an administrator",
        retry_after=minutes * 60,
    )


def check_credential(actor: Actor, *, method: str, check: Callable[[], T]) -> T:
    """Run `check` unless the address is locked out; a PermissionDenied it raises
    (the reason a credential is refused) is counted and audited, then re-raised."""
    refuse_locked_out_address(actor, method=method)
    try:
        return check()
    except PermissionDenied as exc:
        credential_failed(actor, method=method, reason=exc.message)
        raise
