"""Helpers for SMART Backend Services tests: a client's key pair made with
`cryptography`, its public JWKS, and client assertions signed with PyJWT."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from recordroom.accounts.assertions import ASSERTION_TYPE

TOKEN_URL = "http://testserver/oauth/token"


@dataclass(frozen=True)
class KeyPair:
    kid: str
    alg: str
    private: Any
    public_jwk: dict[str, Any]


def make_key(alg: str, kid: str | None = None) -> KeyPair:
    if alg == "RS384":
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    else:
        private = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    kid = kid or f"{alg.lower()}-key-1"
    return KeyPair(kid, alg, private, {**jwk, "kid": kid, "alg": alg, "use": "sig"})


def jwks(*keys: KeyPair) -> str:
    return json.dumps({"keys": [k.public_jwk for k in keys]})


def assertion(
    key: KeyPair,
    client_id: str,
    *,
    aud: Any = TOKEN_URL,
    lifetime: int = 240,
    jti: str | None = None,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": int(time.time()) + lifetime,
        "jti": uuid.uuid4().hex if jti is None else jti,
        **claims,
    }
    return jwt.encode(
        body,
        key.private,
        algorithm=key.alg,
        headers={"kid": key.kid, **(headers or {})},
    )


def assertion_form(signed: str, scope: str | None = None) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
    }
    if scope:
        form["scope"] = scope
    return form
