"""Whether the audit keys are still unused, so that `recordroom init` may create them on
an installation from before they existed (settings.KEYS, `unused_check`)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from .chain import COLUMNS, plain_event_hash


def _plain(order: str) -> bool | None:
    """Whether the first (ASC) or newest (DESC) event has its plain SHA-256 hash; None
    when the chain is empty."""
    cols = ", ".join(("prev_hash", *COLUMNS, "hash"))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {cols} FROM audit_auditevent ORDER BY id {order} LIMIT 1"  # noqa: S608
        )
        row = cur.fetchone()
    if row is None:
        return None
    prev_hash, *values, stored = row
    return bool(plain_event_hash(str(prev_hash), values) == stored)


def audit_key_unused() -> bool:
    """True while no event is keyed: an empty chain, or an installation from before the
    audit key (no switch-over event, and its first and newest events both carry plain
    SHA-256 hashes; the upgrade's migration then seals it with the first keyed event).

    A plain row appended to a keyed chain by someone holding only the database does not
    make the key look unused: the switch-over event or the keyed first event remains.
    """
    if "audit_auditevent" not in connection.introspection.table_names():
        return True
    with connection.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM audit_auditevent WHERE action = %s LIMIT 1",
            ["audit.chain_keyed"],
        )
        if cur.fetchone():
            return False
    first = _plain("ASC")
    return first is None or (first and bool(_plain("DESC")))


def signing_key_unused() -> bool:
    """True while no checkpoint has been written (the checkpoint file is empty)."""
    path = settings.AUDIT_CHECKPOINT_FILE
    return not path.exists() or path.stat().st_size == 0
