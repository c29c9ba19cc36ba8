"""SMART Backend Services client authentication: a client's registered JWKS and the
`private_key_jwt` assertions (RFC 7523, SMART App Launch 2) checked against it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import isfinite
from typing import Any

import jwt
from django.db import IntegrityError, transaction
from django.utils import timezone

from recordroom.kernel.errors import RecordroomError, ValidationFailed

from .models import ApiClient, UsedAssertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")  # what SMART Backend Services requires servers accept
_KEY_TYPE = {"RS384": "RSA", "ES384": "EC"}
_ALG_OF = {kty: alg for alg, kty in _KEY_TYPE.items()}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MIN_RSA_BITS = 2048
MAX_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=30)


class AssertionRefused(RecordroomError):
    """A client assertion that does not authenticate its client (invalid_client)."""

    def __init__(self, message: str, *, client_id: str = "") -> None:
        super().__init__(message)
        self.client_id = client_id


def _shown(value: Any) -> str:
    """A value from an unverified assertion, cut short for messages and audit rows."""
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class AssertedClient:
    client: ApiClient
    kid: str
    alg: str


# --- registration ---------------------------------------------------------------------


def parse_jwks(text: str) -> str:
    """Check a JWKS to register for a client; returns it as compact JSON.

    Each key needs a `kid`, is RSA (at least 2048 bits, for RS384) or EC on P-384 (for
    ES384), and holds public members only.

    Raises:
        ValidationFailed: what is wrong, naming the key.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(f"the JWKS is not JSON: {exc}", field="jwks") from None
    if isinstance(data, dict) and "kty" in data:
        raise ValidationFailed(
            'this is a single key; register a key set: {"keys": [ ...the key... ]}',
            field="jwks",
        )
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValidationFailed(
            'the JWKS needs a non-empty "keys" array ({"keys": [{"kty": ...}]})',
            field="jwks",
        )
    kids: set[str] = set()
    for number, jwk in enumerate(keys, start=1):
        kid = _check_key(number, jwk)
        if kid in kids:
            raise ValidationFailed(f"two keys have kid '{kid}'", field="jwks")
        kids.add(kid)
    return json.dumps({"keys": keys}, sort_keys=True, separators=(",", ":"))


def _check_key(number: int, jwk: Any) -> str:
    def bad(why: str) -> ValidationFailed:
        return ValidationFailed(f"key {number} of the JWKS {why}", field="jwks")

    if not isinstance(jwk, dict):
        raise bad("is not a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid.strip():
        raise bad("has no kid; name each key (assertions select it by kid)")
    private = [m for m in _PRIVATE_MEMBERS if m in jwk]
    if private:
        raise bad(
            f"('{kid}') holds private key material ({', '.join(private)}); register "
            "the public key only and keep the private key with the client"
        )
    kty = jwk.get("kty")
    if kty not in _ALG_OF:
        raise bad(f"('{kid}') has kty '{kty}'; use RSA (RS384) or EC P-384 (ES384)")
    if kty == "EC" and jwk.get("crv") != "P-384":
        raise bad(f"('{kid}') is on curve '{jwk.get('crv')}'; ES384 needs P-384")
    alg = jwk.get("alg")
    if alg is not None and alg != _ALG_OF[kty]:
        raise bad(f"('{kid}') declares alg '{alg}'; an {kty} key signs {_ALG_OF[kty]}")
    if jwk.get("use", "sig") != "sig":
        raise bad(f"('{kid}') has use '{jwk.get('use')}'; a signing key has use 'sig'")
    try:
        key = jwt.PyJWK(jwk, algorithm=_ALG_OF[kty]).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise bad(f"('{kid}') is not a usable {kty} public key: {exc}") from None
    if kty == "RSA" and key.key_size < MIN_RSA_BITS:
        raise bad(f"('{kid}') has {key.key_size} bits; use at least {MIN_RSA_BITS}")
    return kid


def key_ids(jwks: str) -> list[str]:
    """The kids of a registered JWKS, for audit rows and messages."""
    return [k["kid"] for k in json.loads(jwks)["keys"]]


# --- the assertion at the token endpoint ------------------------------------------------


def client_for_assertion(
    *, assertion: str, assertion_type: str, client_id: str, token_url: str
) -> AssertedClient:
    """The client a `private_key_jwt` assertion authenticates, its jti now spent.

    Per SMART Backend Services: iss and sub are the client_id, aud is this token
    endpoint, exp at most five minutes ahead, jti never seen before (kept until exp),
    the key chosen by kid from the client's JWKS and the signature RS384 or ES384.

    Raises:
        AssertionRefused: which check failed, with the offending value.
    """
    if assertion_type != ASSERTION_TYPE:
        raise AssertionRefused(
            f"client_assertion_type '{assertion_type[:100]}' is not supported; "
            f"send {ASSERTION_TYPE}",
            client_id=client_id,
        )
    header, claims = _unverified(assertion, client_id)
    iss = claims.get("iss")
    if not isinstance(iss, str) or not iss:
        raise AssertionRefused(
            "the assertion has no iss; set iss and sub to the client_id",
            client_id=client_id,
        )
    if claims.get("sub") != iss:
        raise AssertionRefused(
            f"the assertion's sub '{_shown(claims.get('sub'))}' differs "
            f"from its iss '{_shown(iss)}'; both are the client_id",
            client_id=iss,
        )
    if client_id and client_id != iss:
        raise AssertionRefused(
            f"client_id '{_shown(client_id)}' differs from the assertion's iss "
            f"'{_shown(iss)}'",
            client_id=iss,
        )
    client = ApiClient.objects.select_related("user").filter(client_id=iss).first()
    if client is None:
        raise AssertionRefused(
            f"no client has client_id '{_shown(iss)}' (the assertion's iss)",
            client_id=iss,
        )
    key = _key_for(client, header)
    try:
        jwt.decode(
            assertion,
            key,
            algorithms=[header["alg"]],
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidTokenError as exc:
        raise AssertionRefused(
            f"the assertion's signature does not verify with key "
            f"'{_shown(header['kid'])}' of client '{client.name}' ({exc})",
            client_id=iss,
        ) from None
    expires_at = _check_claims(claims, token_url, iss)
    _spend(client, str(claims["jti"]), expires_at)
    return AssertedClient(client, header["kid"], header["alg"])


def _unverified(
    assertion: str, client_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise AssertionRefused(
            f"client_assertion is not a signed JWT ({exc})", client_id=client_id
        ) from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise AssertionRefused(
            f"the assertion is signed with alg '{_shown(alg)}'; sign it "
            f"with {' or '.join(ALGORITHMS)}",
            client_id=client_id,
        )
    if header.get("typ", "JWT") != "JWT":
        raise AssertionRefused(
            f"the assertion's typ is '{_shown(header.get('typ'))}'; it is JWT",
            client_id=client_id,
        )
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise AssertionRefused(
            "the assertion's header has no kid; name the key that signed it",
            client_id=client_id,
        )
    return header, claims


def _key_for(client: ApiClient, header: dict[str, Any]) -> Any:
    if not client.jwks:
        raise AssertionRefused(
            f"client '{client.name}' has no registered public keys; authenticate with "
            "its secret, or have an administrator register its JWKS (recordroom "
            "client set-jwks)",
            client_id=client.client_id,
        )
    keys = json.loads(client.jwks)["keys"]
    kid, alg = header["kid"], header["alg"]
    matching = [k for k in keys if k["kid"] == kid]
    if not matching:
        known = ", ".join(key_ids(client.jwks))
        raise AssertionRefused(
            f"client '{client.name}' has no key with kid '{_shown(kid)}' (its keys: "
            f"{known})",
            client_id=client.client_id,
        )
    jwk = matching[0]
    if jwk["kty"] != _KEY_TYPE[alg]:
        raise AssertionRefused(
            f"key '{kid}' of client '{client.name}' is an "
            f"{jwk['kty']} key; it cannot verify {alg}",
            client_id=client.client_id,
        )
    return jwt.PyJWK(jwk, algorithm=alg).key


def _check_claims(claims: dict[str, Any], token_url: str, iss: str) -> datetime:
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if token_url not in audiences:
        raise AssertionRefused(
            f"the assertion's aud '{_shown(aud)}' is not this token "
            f"endpoint; set aud to {token_url}",
            client_id=iss,
        )
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or not isfinite(exp):
        raise AssertionRefused(
            "the assertion has no numeric exp; give it one at most 5 minutes ahead",
            client_id=iss,
        )
    now = timezone.now().timestamp()
    if exp <= now:
        when = datetime.fromtimestamp(max(exp, 0), tz=UTC)
        raise AssertionRefused(
            f"the assertion expired at {when:%Y-%m-%d %H:%M:%S} UTC; sign a new one",
            client_id=iss,
        )
    limit = (MAX_LIFETIME + CLOCK_SKEW).total_seconds()
    if exp > now + limit:
        raise AssertionRefused(
            f"the assertion's exp is {int(exp - now)} seconds ahead; it may be at "
            "most 300 (5 minutes)",
            client_id=iss,
        )
    expires_at = datetime.fromtimestamp(exp, tz=UTC)
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf > now + CLOCK_SKEW.total_seconds():
        raise AssertionRefused(
            "the assertion is not valid yet (nbf is in the future)", client_id=iss
        )
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise AssertionRefused(
            "the assertion needs a jti: a unique string of at most 255 characters",
            client_id=iss,
        )
    return expires_at


def _spend(client: ApiClient, jti: str, expires_at: datetime) -> None:
    """Keep the jti until the assertion expires; a second use is a replay."""
    try:
        with transaction.atomic():
            UsedAssertion.objects.filter(expires_at__lte=timezone.now()).delete()
            UsedAssertion.objects.create(client=client, jti=jti, expires_at=expires_at)
    except IntegrityError:
        raise AssertionRefused(
            f"the assertion's jti '{_shown(jti)}' was already used; sign "
            "each assertion with a new jti",
            client_id=client.client_id,
        ) from None
