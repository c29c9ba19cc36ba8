"""Sign-in throttling (R-SEC-1): failed attempts counted per account, per address and
per account-and-address pair. Only an account's failures from one address lock that
account out there; no valid credential is ever refused for someone else's failures.

Passwords are guessable, so an account that failed too often from an address waits
there, right password or not; its owner elsewhere signs in as usual. Failures counted
per account or per address alone mark the wrong guesses that follow as throttled (429
for machines, audited), which an edge firewall can act on; a right password, an API
token or an OAuth client's secret (far too long to guess) still works.
"""

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


def _wider_limit() -> int:
    # An address or an account across addresses gets more tries than one account from
    # one address: several people may share an address (NAT).
    return settings.LOGIN_MAX_FAILURES * 4


def address_throttled(address: str) -> bool:
    return recent_failures().filter(client_address=address).count() >= _wider_limit()


def account_throttled(username: str) -> bool:
    return recent_failures().filter(username=username).count() >= _wider_limit()


def account_locked_here(username: str, address: str) -> bool:
    """Whether this account failed too often from this address: then even the right
    password from here waits for the lockout to pass."""
    failures = recent_failures().filter(username=username, client_address=address)
    return failures.count() >= settings.LOGIN_MAX_FAILURES


def guesses_throttled(username: str, address: str) -> bool:
    """Whether a wrong password is one of many: for the account or from the address."""
    return account_throttled(username) or address_throttled(address)


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


def _throttled(actor: Actor, *, method: str) -> Throttled:
    credential_failed(actor, method=method, reason="throttled")
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    return Throttled(
        f"too many failed sign-ins from address {actor.client_address or '?'}; "
        f"try again in {minutes} minutes or ask an administrator",
        retry_after=minutes * 60,
    )


def check_credential(actor: Actor, *, method: str, check: Callable[[], T]) -> T:
    """Run `check`; a valid credential passes whatever others sent from its address.

    A PermissionDenied `check` raises (the reason a credential is refused) is counted
    and audited, then re-raised, or turned into Throttled (429 with Retry-After) when
    the address already has too many recent failures.
    """
    try:
        return check()
    except PermissionDenied as exc:
        credential_refused(actor, method=method, reason=exc.message)
        raise


def credential_refused(
    actor: Actor, *, method: str, reason: str, **detail: str
) -> None:
    """Count and audit a refused credential; raise Throttled instead when its address
    already has too many recent failures."""
    if address_throttled(actor.client_address):
        raise _throttled(actor, method=method)
    credential_failed(actor, method=method, reason=reason, **detail)
