"""Sessions ended by the idle limit (R-SEC-1 automatic logoff), audited when seen."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor

from .models import User


def end_expired_session(*, actor: Actor, session_key: str) -> User | None:
    """If `session_key` names a session past its idle limit, end it and audit that.

    The session's row is deleted, so the end is recorded once (of two requests racing
    with the same cookie, only the one whose delete took it records it). Returns the
    user the session belonged to, or None (no such session, or not a signed-in one).
    """
    # Read first, outside a transaction: a cookie with no live session (a pre-login
    # session, an old cookie) costs one indexed read, never the writer's lock.
    row = Session.objects.filter(
        session_key=session_key, expire_date__lte=timezone.now()
    ).first()
    if row is None:
        return None
    with transaction.atomic():
        user_id = row.get_decoded().get(SESSION_KEY)
        deleted, _ = Session.objects.filter(pk=row.pk).delete()
        user = User.objects.filter(pk=user_id).first() if user_id else None
        if not deleted or user is None:
            return None
        last_active = row.expire_date - timedelta(seconds=settings.SESSION_COOKIE_AGE)
        record(
            actor=Actor(
                user=user,
                channel=actor.channel,
                client_address=actor.client_address,
                request_id=actor.request_id,
                purpose=actor.purpose,
            ),
            action=actions.SESSION_EXPIRED.name,
            detail={
                "idle_minutes": settings.SESSION_IDLE_MINUTES,
                "last_active": last_active.isoformat(timespec="seconds"),
                "rule": "R-SEC-1",
            },
        )
    return user
