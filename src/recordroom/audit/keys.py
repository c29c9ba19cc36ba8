"""Whether the audit keys are still unused, so that `recordroom init` may create them on
an installation from before they existed (settings.KEYS, `unused_check`)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from .chain import COLUMNS, plain_event_hash


def audit_key_unused() -> bool:
    """True while no event is keyed: an empty chain, or one whose newest event still has
    its plain SHA-256 hash (an installation from before the audit key; the upgrade's
    migration then seals it with the first keyed event)."""
    if "audit_auditevent" not in connection.introspection.table_names():
        return True
    cols = ", ".join(("prev_hash", *COLUMNS, "hash"))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {cols} FROM audit_auditevent ORDER BY id DESC LIMIT 1"  # noqa: S608
        )
        row = cur.fetchone()
    if row is None:
        return True
    prev_hash, *values, stored = row
    return bool(plain_event_hash(str(prev_hash), values) == stored)


def signing_key_unused() -> bool:
    """True while no checkpoint has been written (the checkpoint file is empty)."""
    path = settings.AUDIT_CHECKPOINT_FILE
    return not path.exists() or path.stat().st_size == 0
