"""The keyed hash chain: canonical form of an event, the writer's lock, verification.

Each event's hash is HMAC-SHA256 under the audit key (settings.RECORDROOM_AUDIT_KEY,
kept outside the database) over the previous hash and the event's columns, so that
whoever holds only the database cannot recompute the chain after changing it (R-SEC-2).
Installations from before the key kept their events' plain SHA-256 hashes: one
`audit.chain_keyed` event, written once at the upgrade (migration 0003), is the first
keyed event and seals them; `verify` accepts plain hashes only before it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from recordroom.kernel import sqlrows

PLAIN = "sha256"  # chain version of events written before the audit key
KEYED = "hmac-sha256"

GENESIS = "0" * 64
# Column order is part of the hash: never reorder, only append (with a version bump).
COLUMNS = (
    "id",
    "ts",
    "user_id",
    "username",
    "role",
    "facility_id",
    "action",
    "outcome",
    "patient_id",
    "object_type",
    "object_id",
    "purpose",
    "channel",
    "client_address",
    "request_id",
    "detail",
)
_SEP = "\x1f"


class Hmac:
    """HMAC-SHA256 with the key's inner and outer pads hashed once (RFC 2104): a
    copy of each per event is about twice as fast as hmac.new, which `verify`'s
    >= 200,000 events/s needs (bench/audit.py)."""

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def hexdigest(self, data: bytes) -> str:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@functools.lru_cache(maxsize=4)
def _hmac_for(key_text: str) -> Hmac:
    try:
        key = base64.b64decode(key_text, validate=True)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise ValueError(
            "RECORDROOM_AUDIT_KEY (or DATA_DIR/keys/audit.key) must be at least 32 "
            'bytes of base64; generate one with: python -c "import base64, secrets; '
            'print(base64.b64encode(secrets.token_bytes(32)).decode())"'
        )
    return Hmac(key)


def audit_hmac() -> Hmac:
    """The HMAC of the configured audit key."""
    return _hmac_for(settings.RECORDROOM_AUDIT_KEY)


def _body(prev_hash: str, values: Sequence[object]) -> bytes:
    """The hashed text: previous hash and the columns, unit-separated.

    String columns never hold control characters (record() strips them and `detail`
    is JSON, which escapes them), so the separator cannot be forged.
    """
    return (prev_hash + _SEP + _SEP.join(str(v) for v in values)).encode()


def event_hash(prev_hash: str, values: Sequence[object]) -> str:
    """The keyed hash every event is written with."""
    return audit_hmac().hexdigest(_body(prev_hash, values))


def plain_event_hash(prev_hash: str, values: Sequence[object]) -> str:
    """The plain SHA-256 of events written before the audit key (and of a forgery)."""
    return hashlib.sha256(_body(prev_hash, values)).hexdigest()


def lock_and_head() -> tuple[int, str]:
    """Take the chain's writer lock for this transaction; return the last (id, hash).

    PostgreSQL: a transaction-scoped advisory lock. SQLite: transactions are BEGIN
    IMMEDIATE (settings), so the writer already holds the database lock.
    """
    with sqlrows.cursor(connection) as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_advisory_xact_lock(727274)")
        cur.execute("SELECT id, hash FROM audit_auditevent ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found. `reason` names the first problem; empty means intact."""

    count: int
    broken_id: int | None = None
    reason: str = ""
    head_id: int = 0
    head_hash: str = GENESIS
    keyed_from: int | None = (
        None  # the first keyed event (1 on a chain keyed from birth)
    )
    checkpoints: int = 0  # checkpoints whose position was checked

    @property
    def intact(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class Expected:
    """A position the chain must still hold (a signed checkpoint's id and hash)."""

    event_id: int
    hash: str
    label: str = ""


@dataclass
class _Walk:
    count: int = 0
    head_id: int = 0
    head_hash: str = GENESIS
    keyed_from: int | None = None
    checked: int = 0
    expected: list[Expected] = field(default_factory=list)


def _canonical_sql(vendor: str, where: str = "") -> tuple[str, list[str]]:
    """SELECT id, the hashed text (what event_hash hashes), hash -- in id order.

    The database joins the previous hash and the columns with the separator itself:
    one string per row instead of eighteen values is what lets `verify` check
    >= 200,000 events a second (bench/audit.py). Integer columns print as the digits
    str() gives. A NULL anywhere makes the text NULL, which `verify` reports as an
    altered event.
    """
    cols = ["prev_hash", *COLUMNS]
    if vendor == "sqlite":
        # One printf is about twice as fast as a chain of || on SQLite.
        any_null = " OR ".join(f"{c} IS NULL" for c in cols)
        text = f"CASE WHEN {any_null} THEN NULL ELSE printf(%s, {', '.join(cols)}) END"
        params = [_SEP.join(["%s"] * len(cols))]
    else:
        text = f" || chr({ord(_SEP)}) || ".join(f"CAST({c} AS TEXT)" for c in cols)
        params = []
    sql = f"SELECT id, {text}, hash FROM audit_auditevent {where} ORDER BY id"  # noqa: S608
    return sql, params


def _rows(after: int = 0, batch: int = 20_000) -> Iterator[tuple[int, str | None, str]]:
    sql, text_params = _canonical_sql(connection.vendor, "WHERE id > %s")
    params: list[str | int] = [*text_params, after]
    if connection.vendor == "postgresql":
        from django.db import transaction

        # A named (server-side) cursor streams without holding the table in memory;
        # it lives inside a transaction. (On SQLite a transaction would be BEGIN
        # IMMEDIATE and block writers, and a plain cursor already streams.)
        with transaction.atomic():
            connection.ensure_connection()
            raw = connection.connection
            with raw.cursor(name="audit_verify") as cur:  # type: ignore[union-attr]
                cur.itersize = batch
                cur.execute(sql, params)
                yield from cur
        return
    with connection.cursor() as cur:
        cur.execute(sql, params)
        while rows := cur.fetchmany(batch):
            yield from rows


def head_text(event_id: int) -> str | None:
    """The hashed text of one event (None if it has none)."""
    sql, text_params = _canonical_sql(connection.vendor, "WHERE id = %s")
    with connection.cursor() as cur:
        cur.execute(sql, [*text_params, event_id])
        row = cur.fetchone()
    return None if row is None else row[1]


def _action_of(event_id: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT action FROM audit_auditevent WHERE id = %s", [event_id])
        row = cur.fetchone()
    return str(row[0]) if row else ""


def verify(
    expected: Sequence[Expected] = (),
    *,
    key: Hmac | None = None,
    keyless: bool = False,
    after: Expected | None = None,
) -> VerifyResult:
    """Walk the chain from the first event; stop at the first one that does not hold.

    Every event must carry its keyed hash, except a plain-SHA-256 prefix written before
    the audit key, which must end in the `audit.chain_keyed` event. A chain whose last
    event is plain is refused too (it is what a forger without the key leaves).
    `expected` positions (signed checkpoints) must still hold their hashes, and the
    chain must reach the last of them. `keyless` (an auditor without the HMAC key)
    checks only ids, links and those positions. `after` starts the walk after a
    checkpointed event, which must still hold its hash (the chain there is keyed).
    """
    hmac_ = None if keyless else (key or audit_hmac())
    w = _Walk(expected=sorted((e for e in expected if e.event_id > 0),
                              key=lambda e: e.event_id))  # fmt: skip
    start, keyed = 0, False
    if after is not None and after.event_id > 0:
        if _stored_hash(after.event_id) != after.hash:
            return _result(
                w, after.event_id,
                f"event {after.event_id} is not the event {after.label} signed: its "
                "hash differs or it is gone (the chain was rewritten or cut short)",
            )  # fmt: skip
        start, keyed = after.event_id, True
        w.head_id, w.head_hash = after.event_id, after.hash
    return _walk(w, _rows(after=start), hmac_, keyed)


def _stored_hash(event_id: int) -> str | None:
    with connection.cursor() as cur:
        cur.execute("SELECT hash FROM audit_auditevent WHERE id = %s", [event_id])
        row = cur.fetchone()
    return None if row is None else str(row[0])


def _walk(
    w: _Walk,
    rows: Iterator[tuple[int, str | None, str]],
    hmac_: Hmac | None,
    keyed: bool,
) -> VerifyResult:
    from recordroom.kernel.actions import AUDIT_CHAIN_KEYED

    sha = hashlib.sha256
    todo = iter(w.expected)
    pending = next((e for e in todo if e.event_id > w.head_id), None)
    prev_hash, expected_id = w.head_hash, w.head_id + 1
    for event_id, text, stored_hash in rows:
        if event_id != expected_id:
            return _result(
                w, expected_id,
                f"event {expected_id} is missing (next present is {event_id})",
            )  # fmt: skip
        # text = prev_hash + SEP + columns: its start is the stored previous hash.
        if text is not None and not text.startswith(prev_hash + _SEP):
            return _result(
                w, event_id,
                f"event {event_id} does not follow event {expected_id - 1}: "
                "its previous-hash differs (an earlier event was changed or removed)",
            )  # fmt: skip
        data = b"" if text is None else text.encode()
        if hmac_ is None:
            ok = text is not None  # without the key: ids, links and checkpoints only
        elif keyed:
            ok = text is not None and hmac_.hexdigest(data) == stored_hash
        elif text is not None and sha(data).hexdigest() == stored_hash:
            ok = True  # still in the plain prefix
        else:
            ok = text is not None and hmac_.hexdigest(data) == stored_hash
            if ok and event_id > 1 and _action_of(event_id) != AUDIT_CHAIN_KEYED.name:
                return _result(
                    w, event_id,
                    f"event {event_id} is the first keyed event but not the "
                    f"'{AUDIT_CHAIN_KEYED.name}' switch-over: the events before it "
                    "were rewritten with plain hashes",
                )  # fmt: skip
            keyed = ok
            w.keyed_from = event_id if ok else None
        if not ok:
            return _result(
                w, event_id,
                f"event {event_id} was altered: its contents no longer match its "
                "keyed hash",
            )  # fmt: skip
        while pending is not None and pending.event_id == event_id:
            if stored_hash != pending.hash:
                return _result(
                    w, event_id,
                    f"event {event_id} is not the event {pending.label or 'signed'} "
                    "signed: its hash differs (the chain was rewritten from there or "
                    "before)",
                )  # fmt: skip
            w.checked += 1
            pending = next(todo, None)
        prev_hash = stored_hash
        expected_id += 1
        w.count += 1
        w.head_id, w.head_hash = event_id, stored_hash
    return _finish(w, pending, keyed or hmac_ is None)


def _finish(w: _Walk, pending: Expected | None, keyed: bool) -> VerifyResult:
    if pending is not None:
        last = w.expected[-1]
        return _result(
            w,
            w.head_id + 1,
            f"the chain ends at event {w.head_id} but {pending.label or 'a checkpoint'} "
            f"signed event {pending.event_id} (and the last one event {last.event_id}):"
            " events were removed from the end",
        )
    if w.head_id and not keyed:
        return _result(
            w,
            w.head_id,
            f"the chain is not keyed: its {w.count} events carry plain SHA-256 hashes "
            "that anyone holding the database can recompute (an upgraded installation "
            "writes the 'audit.chain_keyed' event when it migrates)",
        )
    return _result(w, None, "")


def _result(w: _Walk, broken_id: int | None, reason: str) -> VerifyResult:
    return VerifyResult(
        w.count,
        broken_id,
        reason,
        head_id=w.head_id,
        head_hash=w.head_hash,
        keyed_from=w.keyed_from,
        checkpoints=w.checked,
    )
