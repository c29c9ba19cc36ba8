"""Signed checkpoints of the audit chain's head, kept outside the database (R-SEC-2).

A checkpoint is one JSON line: the last event id, its hash, the time and the chain
version, signed with Ed25519 (the private key in the key store, never in the
database). Lines are appended to settings.AUDIT_CHECKPOINT_FILE (and sent to syslog
when AUDIT_SYSLOG is set), a place the database's owner cannot change; `verify` then
checks that the chain still holds every signed position and is not shorter than the
last one, with the HMAC key or, for an auditor, with the public key alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import logging.handlers
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.db import connection

from .chain import GENESIS, KEYED, Expected, VerifyResult, verify

logger = logging.getLogger(__name__)
FORMAT = 1  # the checkpoint line's own version


class CheckpointError(Exception):
    """A checkpoint file or key that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Checkpoint:
    event_id: (
        int  # the chain's last event when signed (its length: ids are 1, 2, 3 ...)
    )
    hash: str
    time: str  # ISO 8601, UTC
    chain: str  # chain version of the head: hmac-sha256
    key: str  # the signing public key's fingerprint (first 16 hex of its SHA-256)
    sig: str = ""  # base64 Ed25519 signature over payload()
    v: int = FORMAT

    def payload(self) -> bytes:
        body = {k: v for k, v in asdict(self).items() if k != "sig"}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")) + "\n"

    @property
    def label(self) -> str:
        return f"the checkpoint of {self.time}"


# --- keys -------------------------------------------------------------------------


def signing_key() -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(settings.RECORDROOM_AUDIT_SIGNING_KEY, validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError:
        raise CheckpointError(
            "RECORDROOM_AUDIT_SIGNING_KEY (or DATA_DIR/keys/audit-signing.key) must be "
            "32 bytes of base64 (an Ed25519 private key)"
        ) from None


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    """The signing key's public half as PEM: what an auditor verifies with."""
    pub = key or signing_key().public_key()
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"cannot read public key {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --- writing ----------------------------------------------------------------------


def _head() -> tuple[int, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT id, hash FROM audit_auditevent ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def write_checkpoint(path: Path | None = None) -> Checkpoint:
    """Sign the chain's head and append it to the checkpoint file (and syslog).

    Before signing, the events since the last checkpoint are checked (the last signed
    event still holds its hash, and every event after it its keyed hash), so that a
    checkpoint never vouches for a chain already rewritten or cut short.

    Raises:
        CheckpointError: the file or key cannot be used, or the chain does not hold.
    """
    path = path or settings.AUDIT_CHECKPOINT_FILE
    key = signing_key()
    previous = read_checkpoints(path, key.public_key())
    # The head is read first: the check below walks at least up to it, so an event
    # written meanwhile is never signed unchecked (the next checkpoint covers it).
    event_id, head_hash = _head()
    result = _check_since(previous[-1] if previous else None)
    if not result.intact:
        raise CheckpointError(f"not signed: {result.reason}")
    now = datetime.fromtimestamp(time.time(), tz=UTC).isoformat(timespec="seconds")
    unsigned = Checkpoint(
        event_id, head_hash, now, KEYED, fingerprint(key.public_key())
    )
    sig = base64.b64encode(key.sign(unsigned.payload())).decode()
    cp = Checkpoint(**{**asdict(unsigned), "sig": sig})
    _append(path, cp.line())
    _to_syslog(cp.line())
    return cp


def _check_since(last: Checkpoint | None) -> VerifyResult:
    """Verify from the last checkpoint on (cheap: only the events since)."""
    if last is None:
        return verify()
    return verify(after=Expected(last.event_id, last.hash, last.label))


def _append(path: Path, line: str) -> None:
    """One write(2) on an O_APPEND descriptor, then fsync: lines never interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _to_syslog(line: str) -> None:
    target = settings.AUDIT_SYSLOG
    if not target:
        return
    host, _, port = target.rpartition(":")
    address: str | tuple[str, int] = (
        (host, int(port)) if host and port.isdigit() else target
    )
    handler = logging.handlers.SysLogHandler(
        address=address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV
    )
    try:
        record = logging.LogRecord(
            "recordroom.audit", logging.INFO, __file__, 0,
            "recordroom audit checkpoint %s", (line.strip(),), None,
        )  # fmt: skip
        handler.emit(record)
    finally:
        handler.close()


# --- reading and checking ---------------------------------------------------------


def read_checkpoints(path: Path, key: Ed25519PublicKey) -> list[Checkpoint]:
    """Every checkpoint in the file, each signature checked, in file order.

    Raises:
        CheckpointError: naming the first line that is not a checkpoint, is signed by
            another key, or whose signature does not hold.
    """
    if not path.exists():
        return []
    wanted = fingerprint(key)
    found: list[Checkpoint] = []
    with path.open(encoding="utf-8") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            cp = _parse(path, number, text)
            if cp.key != wanted:
                raise CheckpointError(
                    f"{path} line {number} is signed by key {cp.key}, not by this "
                    f"installation's key {wanted}"
                )
            try:
                key.verify(base64.b64decode(cp.sig), cp.payload())
            except (InvalidSignature, ValueError):
                raise CheckpointError(
                    f"{path} line {number}: the signature does not hold (the line was "
                    "changed)"
                ) from None
            found.append(cp)
    return found


def _parse(path: Path, number: int, text: str) -> Checkpoint:
    try:
        data = json.loads(text)
        cp = Checkpoint(**data)
        if not isinstance(cp.event_id, int) or not isinstance(cp.sig, str):
            raise TypeError
    except (ValueError, TypeError):
        raise CheckpointError(f"{path} line {number} is not a checkpoint") from None
    return cp


def expectations(checkpoints: Iterable[Checkpoint]) -> list[Expected]:
    return [Expected(cp.event_id, cp.hash, cp.label) for cp in checkpoints]


@dataclass(frozen=True)
class Report:
    """`audit verify`: the chain's result and the checkpoints it was held to."""

    result: VerifyResult
    checkpoints: list[Checkpoint]

    @property
    def last(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


def verify_all(
    path: Path | None = None, public_key: Ed25519PublicKey | None = None
) -> Report:
    """Check the chain with the HMAC key and every signed checkpoint in the file.

    With `public_key` (an auditor holding no HMAC key), the chain's ids and links and
    every checkpointed position are checked, which catches truncation and any rewrite
    reaching a signed event; an edit that leaves the stored hashes alone needs the key.

    Raises:
        CheckpointError: the checkpoint file does not hold (see read_checkpoints).
    """
    path = path or settings.AUDIT_CHECKPOINT_FILE
    keyless = public_key is not None
    key = public_key or signing_key().public_key()
    checkpoints = read_checkpoints(path, key)
    result = verify(expectations(checkpoints), keyless=keyless)
    return Report(result, checkpoints)


def warnings(
    last: Checkpoint | None, *, events: int, path: Path | None = None
) -> list[str]:
    """What weakens the checkpoints' protection, in words for `audit verify`: events
    cut from the end after the last checkpoint cannot be detected, so a missing or old
    checkpoint, or a file the database's owner can also change, is said out loud."""
    path = path or settings.AUDIT_CHECKPOINT_FILE
    minutes = settings.AUDIT_CHECKPOINT_MINUTES
    found = []
    if last is None and events:
        found.append(
            "no checkpoint yet: events cut from the end of the chain would go unnoticed "
            "until one is written (`recordroom audit checkpoint`, or run "
            "`recordroom worker`, which writes them on a schedule)"
        )
    elif last is not None and minutes > 0:
        written = datetime.fromisoformat(last.time)
        age = (datetime.now(tz=UTC) - written).total_seconds() / 60
        if age > 2 * minutes:
            found.append(
                f"the last checkpoint is {age / 60:.1f} hours old (the schedule writes "
                f"one every {minutes:g} minutes): is `recordroom worker` running?"
            )
    data_dir = Path(settings.DATA_DIR).resolve()
    if path.resolve().is_relative_to(data_dir):
        found.append(
            f"the checkpoint file {path} is in the data folder: ship it off-host or set "
            "RECORDROOM_AUDIT_CHECKPOINT_FILE to a place the database's owner cannot "
            "change, or a rewrite that also edits it goes unnoticed"
        )
    return found
