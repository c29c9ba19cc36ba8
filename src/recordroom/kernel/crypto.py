"""Field and blob encryption (AES-256-GCM) and keyed blind indexes (HMAC-SHA256).

Keys come from settings (an environment variable or a key file in the data folder),
never from the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import IntegrityFailure

_FIELD_MAGIC = b"RRF1"


@lru_cache(maxsize=4)
def _master(key_b64: str) -> bytes:
    key = base64.b64decode(key_b64)
    if len(key) != 32:
        raise ValueError(
            f"RECORDROOM_BLOB_KEY must be 32 bytes of base64, got {len(key)} bytes"
        )
    return key


def master_key() -> bytes:
    from django.conf import settings

    if not settings.RECORDROOM_BLOB_KEY:
        from .keys import require

        require()  # raises MissingKey naming the file and how to restore it
    return _master(settings.RECORDROOM_BLOB_KEY)


def derived_key(purpose: str) -> bytes:
    """A separate 256-bit key per purpose, so one key never serves two uses."""
    return hmac.new(master_key(), purpose.encode(), hashlib.sha256).digest()


def encrypt(plaintext: bytes, *, purpose: str, aad: bytes = b"") -> bytes:
    nonce = os.urandom(12)
    return (
        _FIELD_MAGIC
        + nonce
        + AESGCM(derived_key(purpose)).encrypt(nonce, plaintext, aad)
    )


def decrypt(token: bytes, *, purpose: str, aad: bytes = b"") -> bytes:
    if bytes(token[:4]) != _FIELD_MAGIC:
        raise IntegrityFailure("encrypted value has an unknown format")
    nonce, body = bytes(token[4:16]), bytes(token[16:])
    try:
        return AESGCM(derived_key(purpose)).decrypt(nonce, body, aad)
    except InvalidTag as exc:
        raise IntegrityFailure(
            "encrypted value failed its authentication check (altered, or wrong key)"
        ) from exc


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash that lets an exact value be looked up without storing it."""
    return hmac.new(
        derived_key("index:" + purpose), value.encode(), hashlib.sha256
    ).hexdigest()
