"""Writing audit events: `record` (one) and `record_many` (bulk loads)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from recordroom.kernel import actions, sqlrows, unit
from recordroom.kernel.actor import Actor

from .chain import COLUMNS, KEYED, audit_hmac, event_hash, head_text, lock_and_head
from .models import AuditEvent, Outcome

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean(value: object, limit: int) -> str:
    text = "" if value is None else str(value)
    if not text.isprintable():  # printable text holds no control characters
        text = _CONTROL.sub(" ", text)
    return text[:limit]


def _object_ref(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    if isinstance(obj, tuple):
        return str(obj[0]), str(obj[1])
    return obj._meta.label_lower, str(obj.pk)


@dataclass
class EventSpec:
    """One event to write; `patient` and `obj` may be model instances or ids."""

    actor: Actor
    action: str
    patient: Any = None
    obj: Any = None
    outcome: str = Outcome.SUCCESS
    detail: dict[str, Any] = field(default_factory=dict)
    ts: int | None = None

    def values(self, event_id: int) -> list[object]:
        actions.get(self.action)  # refuse undeclared actions
        patient_id = getattr(self.patient, "pk", self.patient)
        obj_type, obj_id = _object_ref(self.obj)
        actor = self.actor
        # A system client acts as its service user; the row names the client too.
        data = (
            {**self.detail, "client_id": actor.client_id}
            if actor.client_id
            else self.detail
        )
        detail = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        return [
            event_id,
            self.ts if self.ts is not None else time.time_ns() // 1000,
            _clean(actor.user_id, 36),
            _clean(actor.username, 150),
            _clean(actor.role, 200),
            _clean(actor.facility_id or getattr(self.obj, "facility_id", None), 36),
            self.action,
            Outcome(self.outcome).value,
            _clean(patient_id, 36),
            _clean(obj_type, 64),
            _clean(obj_id, 64),
            _clean(actor.purpose, 32),
            _clean(actor.channel, 16),
            _clean(actor.client_address, 64),
            _clean(actor.request_id, 64),
            detail,
        ]


def record(
    *,
    actor: Actor,
    action: str,
    patient: Any = None,
    obj: Any = None,
    outcome: str = Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction if there is one.

    A mutating service calls this inside its own `transaction.atomic()`, so the change
    and its event commit or roll back together (DESIGN.md rule 3).
    """
    spec = EventSpec(actor, action, patient, obj, outcome, detail or {})
    return record_many([spec])[0]


def record_many(
    specs: Iterable[EventSpec], *, batch_size: int = 2000
) -> list[AuditEvent]:
    """Append many events under one chain lock (bulk loads, imports).

    In the caller's transaction the events take no savepoint of their own (two
    statements fewer per event, and two round trips on PostgreSQL): an event that
    cannot be written fails the caller's whole transaction, as it must, since the
    change it records may not commit without it (DESIGN.md rule 3). An undeclared
    action or unknown outcome is refused before anything is written.
    """
    specs = list(specs)
    for spec in specs:
        actions.get(spec.action)
        Outcome(spec.outcome)
    held = unit.current()
    if held is None:
        with transaction.atomic(savepoint=False):
            rows = _append(specs, None, batch_size)
    else:  # a unit is one transaction already: what atomic() would do, without it
        try:
            rows = _append(specs, held, batch_size)
        except BaseException:
            transaction.set_rollback(True)
            raise
    return [_saved(row) for row in rows]


def _append(
    specs: list[EventSpec], held: unit.Unit | None, batch_size: int
) -> list[tuple[Any, ...]]:
    """Chain and insert the events, in the caller's transaction."""
    last_id, prev = _head(held)
    rows: list[tuple[Any, ...]] = []
    for spec in specs:
        last_id += 1
        values = spec.values(last_id)
        digest = event_hash(prev, values)
        rows.append((*values, prev, digest))
        prev = digest
    # A plain INSERT: the ORM's bulk_create costs more than the rest of an event
    # (bench/audit.py, audited-request overhead).
    with sqlrows.cursor(connection) as cur:
        for start in range(0, len(rows), batch_size):
            cur.executemany(_INSERT_SQL, rows[start : start + batch_size])
    if held is not None:
        held.chain_head = (last_id, prev, _savepoints())
    return rows


def _savepoints() -> tuple[str, ...]:
    """The savepoints open now (blocks without one cannot undo part of the work)."""
    return tuple(sid for sid in connection.savepoint_ids if sid)


def _head(held: unit.Unit | None) -> tuple[int, str]:
    """The chain's last (id, hash), locked for this transaction.

    In a unit of work the head this transaction wrote last is still the head while
    every savepoint open when it was written is still open: the transaction holds the
    chain's lock (so nobody else appends), and only a rollback to one of those
    savepoints could have taken the event back. Otherwise it is read again.
    """
    if held is not None and held.chain_head is not None:
        last_id, prev, open_then = held.chain_head
        if _savepoints()[: len(open_then)] == open_then:
            return last_id, prev
    return lock_and_head()


_FIELDS = (*COLUMNS, "prev_hash", "hash")
_INSERT_SQL = (
    f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_FIELDS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_FIELDS))})"
)


# The row's values are in the model's field order: instances are built the fast way
# Django builds rows it reads (positional).
_IN_FIELD_ORDER = tuple(f.attname for f in AuditEvent._meta.concrete_fields) == _FIELDS


def _saved(row: tuple[Any, ...]) -> AuditEvent:
    """The model instance of a row just inserted (so save() refuses, as for any)."""
    if _IN_FIELD_ORDER:
        return sqlrows.instance(AuditEvent, connection.alias, row)
    event = AuditEvent(**dict(zip(_FIELDS, row, strict=True)))
    event._state.adding = False
    event._state.db = connection.alias
    return event


def seal_plain_chain(*, actor: Actor) -> AuditEvent | None:
    """Key a chain written before the audit key: append the `audit.chain_keyed` event.

    Runs once, at the upgrade (migration audit 0003). The events before keep their
    plain SHA-256 hashes (history is never rewritten); this first keyed event covers the
    last plain hash, so none of them can change unnoticed afterwards. A chain that is
    empty or already keyed is left alone.
    """
    with transaction.atomic():
        last_id, head_hash = lock_and_head()
        text = head_text(last_id)
        if last_id == 0 or (
            text is not None and audit_hmac().hexdigest(text.encode()) == head_hash
        ):
            return None
        return record(
            actor=actor,
            action=actions.AUDIT_CHAIN_KEYED.name,
            detail={"chain": KEYED, "plain_events": last_id, "plain_head": head_hash},
        )
