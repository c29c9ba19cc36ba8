"""Refused access attempts, audited once where an adapter turns them into a 403/404.

Every adapter (pages, /api/v1, /fhir/R4) calls `audit_refusal` from the one place it
maps a domain error to a response, so no refusal path is missed: a missing permission,
a patient or facility outside the user's scope, a sensitivity label. A 404 raised while
handling a PermissionDenied (out of scope shown as absent) is a refusal too; the client
still gets its 404.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied

from .models import Outcome
from .services import record

logger = logging.getLogger(__name__)


def refusal_of(exc: BaseException) -> PermissionDenied | None:
    """The PermissionDenied behind `exc`: itself, or the one a NotFound hides."""
    if isinstance(exc, PermissionDenied):
        return exc
    if isinstance(exc, NotFound) and isinstance(exc.__context__, PermissionDenied):
        return exc.__context__
    return None


def audit_refusal(
    *, actor: Actor, exc: BaseException, path: str, patient_id: Any = None
) -> None:
    """Record `access.denied` for a refused attempt (once per refusal; never raises).

    A refusal audit must never turn a 403 into a 500: a failure to write it is logged.
    """
    denied = refusal_of(exc)
    if denied is None or denied.audited:
        return
    denied.audited = True
    shown = 404 if isinstance(exc, NotFound) else 403
    try:
        with transaction.atomic():
            record(
                actor=actor,
                action=actions.ACCESS_DENIED.name,
                patient=denied.patient_id or patient_id or None,
                outcome=Outcome.DENIED,
                detail={"path": path[:500], "reason": denied.message, "status": shown},
            )
    except Exception:
        logger.exception("could not audit a refused access to %s", path)
