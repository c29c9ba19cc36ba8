"""Content-addressed, encrypted blob store under DATA_DIR/blobs.

A blob's address is the SHA-256 of its plaintext. The file on disk is AES-GCM
ciphertext whose associated data is that address, so a file moved to another address
fails to decrypt. Every read decrypts and re-hashes: a missing, altered or misplaced
blob raises IntegrityFailure and is never returned.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .crypto import derived_key
from .errors import IntegrityFailure, NotFound

_MAGIC = b"RRB1"
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    created: bool  # False when identical content was already stored


def seal(data: bytes) -> tuple[str, bytes]:
    """A blob's address and its encrypted form, exactly as the store's file would
    hold it, for bytes kept elsewhere (a database column): `unseal` reads it back
    with the same integrity checks as `BlobStore.get`."""
    sha = hashlib.sha256(data).hexdigest()
    return sha, _encrypt(sha, data)


def _encrypt(sha256: str, data: bytes) -> bytes:
    nonce = os.urandom(12)
    return _MAGIC + nonce + _aead().encrypt(nonce, data, sha256.encode())


def _aead() -> AESGCM:
    return AESGCM(derived_key("blob"))


def unseal(sha256: str, token: bytes) -> bytes:
    """The plaintext of `seal`'s (or a blob file's) bytes; IntegrityFailure if they
    were altered or moved to another address."""
    token = bytes(token)  # a database may hand back a memoryview
    if token[:4] != _MAGIC:
        raise IntegrityFailure(f"blob {sha256} has an unknown file format")
    try:
        data = _aead().decrypt(token[4:16], token[16:], sha256.encode())
    except InvalidTag:
        raise IntegrityFailure(
            f"blob {sha256} failed its integrity check: the stored file was altered"
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise IntegrityFailure(f"blob {sha256} content does not match its hash")
    return data


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise NotFound(f"'{sha256}' is not a SHA-256 blob address")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> StoredBlob:
        """Store one blob durably (file and directory fsynced) before returning."""
        stored, path = self._write(data)
        if stored.created:
            _fsync_dir(path.parent)
        return stored

    def put_many(self, datas: list[bytes]) -> list[StoredBlob]:
        """Store many blobs, then make them durable with one sync (bulk loads).

        Same result as `put` for each, at a fraction of the cost: no fsync per file.
        """
        out = [self._write(data, sync=False)[0] for data in datas]
        os.sync()
        return out

    def _write(self, data: bytes, *, sync: bool = True) -> tuple[StoredBlob, Path]:
        sha = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha)
        if path.exists():
            return StoredBlob(sha, len(data), created=False), path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = _encrypt(sha, data)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(token)
                if sync:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredBlob(sha, len(data), created=True), path

    def get(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise IntegrityFailure(
                f"blob {sha256} is missing from the store; restore it from backup"
            ) from None
        return unseal(sha256, raw)

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def writable(self) -> str:
        """'' when a blob could be written now, else what stops it (for /healthz)."""
        return writable_problem(self.root)


def writable_problem(folder: Path) -> str:
    """Create and remove a probe file in `folder`: '' when that works, else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"{folder} is not writable ({exc.strerror or type(exc).__name__})"
    return ""


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (POSIX: fsync the directory)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def default_store() -> BlobStore:
    from django.conf import settings

    return BlobStore(settings.BLOB_DIR)
