"""SMART on FHIR scopes (v1 `system/Patient.read`, v2 `system/Patient.rs`): parsing,
checking an interaction against them, and narrowing one set of scopes by another."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from recordroom.kernel.errors import PermissionDenied, ValidationFailed

# SMART v2 permission letters, in the order a scope must list them.
LETTERS = "cruds"
INTERACTIONS: dict[str, str] = {
    "create": "c",
    "read": "r",
    "update": "u",
    "delete": "d",
    "search": "s",
}
# SMART v1 permission words and the v2 letters each stands for.
V1_WORDS: dict[str, str] = {"read": "rs", "write": "cud", "*": "cruds"}
_V1_BY_LETTERS = {letters: word for word, letters in V1_WORDS.items()}
CONTEXTS = ("system", "user", "patient")
_SHAPE = re.compile(r"(?P<context>[^/]*)/(?P<resource>[^.]*)\.(?P<permissions>.*)")
_RESOURCE = re.compile(r"\*|[A-Z][A-Za-z]{0,63}")
_V2 = re.compile(r"c?r?u?d?s?")
# Scopes of a SMART app launch or OpenID Connect: not resource access.
_LAUNCH = ("launch", "openid", "fhirUser", "profile", "offline_access", "online_access")


@dataclass(frozen=True)
class Scope:
    """One resource scope: context, resource type (or "*"), v2 permission letters."""

    context: str
    resource: str
    permissions: str
    v1: bool = False  # written as read/write/* (kept when the scope is shown back)

    def __str__(self) -> str:
        word = _V1_BY_LETTERS.get(self.permissions) if self.v1 else None
        return f"{self.context}/{self.resource}.{word or self.permissions}"

    def allows(self, resource_type: str, interaction: str) -> bool:
        # patient/ scopes need a patient compartment from a launch: never enough here.
        return (
            self.context != "patient"
            and self.resource in ("*", resource_type)
            and INTERACTIONS[interaction] in self.permissions
        )

    def covers(self, other: Scope) -> bool:
        return (
            self.context == other.context
            and self.resource in ("*", other.resource)
            and set(other.permissions) <= set(self.permissions)
        )


def _invalid(text: str, why: str) -> ValidationFailed:
    return ValidationFailed(f"scope '{text}' {why}", field="scope")


@lru_cache(maxsize=1024)
def parse_scope(text: str) -> Scope:
    """Parse one SMART v1 or v2 resource scope.

    Raises:
        ValidationFailed: the scope is malformed, restricts by search parameters, or
            belongs to an app launch; the message names it and says what would do.
    """
    if text.split("/")[0] in _LAUNCH:
        raise _invalid(
            text,
            "belongs to a SMART app launch or OpenID Connect, which Recordroom does "
            "not offer; system clients ask for system/ scopes (e.g. system/*.read)",
        )
    if "?" in text:
        raise _invalid(
            text,
            "restricts by search parameters (SMART v2 granular scopes), which "
            "Recordroom does not support; ask for the whole resource type",
        )
    shape = _SHAPE.fullmatch(text)
    if shape is None or shape["context"] not in CONTEXTS:
        raise _invalid(
            text,
            "is not a SMART scope: write context/ResourceType.permissions with "
            "context system, user or patient (e.g. system/Patient.read)",
        )
    resource, permissions = shape["resource"], shape["permissions"]
    if not _RESOURCE.fullmatch(resource):
        raise _invalid(
            text,
            f"names '{resource}', which is neither * nor a FHIR resource type "
            "(those are capitalised, e.g. Patient)",
        )
    if permissions in V1_WORDS:
        return Scope(shape["context"], resource, V1_WORDS[permissions], v1=True)
    if not permissions or not _V2.fullmatch(permissions):
        raise _invalid(
            text,
            f"has unknown permissions '{permissions}': use read, write or * (SMART "
            "v1) or letters of cruds in that order (SMART v2, e.g. rs)",
        )
    return Scope(shape["context"], resource, permissions)


def parse_scopes(text: str) -> tuple[Scope, ...]:
    """Parse a space-separated scope string (RFC 6749 §3.3); duplicates dropped."""
    return tuple(dict.fromkeys(parse_scope(part) for part in text.split()))


def parse_grantable(text: str) -> tuple[Scope, ...]:
    """Scopes a system client may hold or ask for: no patient/ (launch) scopes.

    Raises:
        ValidationFailed: a scope is malformed, or is a patient/ scope.
    """
    scopes = parse_scopes(text)
    for scope in scopes:
        if scope.context == "patient":
            raise _invalid(
                str(scope),
                "needs a patient launch context, which Recordroom does not offer "
                "(client credentials have no patient); ask for "
                f"system/{scope.resource}.{scope.permissions} instead",
            )
    return scopes


def format_scopes(scopes: Iterable[Scope]) -> str:
    return " ".join(str(s) for s in scopes)


def _as_scopes(scopes: Iterable[Scope | str]) -> list[Scope]:
    return [s if isinstance(s, Scope) else parse_scope(s) for s in scopes]


def allows(
    scopes: Iterable[Scope | str] | None, resource_type: str, interaction: str
) -> bool:
    """Whether the scopes allow `interaction` on `resource_type`.

    `interaction` is read, search, create, update or delete (SMART v1 read covers read
    and search, write covers create, update and delete). None means no scopes apply
    (a user's own API token): the role alone decides.
    """
    if interaction not in INTERACTIONS:
        raise ValueError(
            f"unknown interaction {interaction!r}; one of {', '.join(INTERACTIONS)}"
        )
    if scopes is None:
        return True
    return any(s.allows(resource_type, interaction) for s in _as_scopes(scopes))


def require_scope(actor: Any, resource_type: str, interaction: str) -> None:
    """Refuse (PermissionDenied, a 403) what the actor's access token does not grant."""
    if allows(actor.scopes, resource_type, interaction):
        return
    word = "read" if interaction in ("read", "search") else "write"
    granted = " ".join(actor.scopes) or "none"
    raise PermissionDenied(
        f"the access token's scopes ({granted}) do not allow {interaction} of "
        f"{resource_type}; that needs system/{resource_type}.{word} (SMART v2: "
        f"system/{resource_type}.{INTERACTIONS[interaction]}), granted to the client "
        "by an administrator"
    )


def readable_types(
    actor: Any, asked: Iterable[str] | None, offered: Iterable[str]
) -> list[str]:
    """The types a many-type read ($export, $everything) covers for the actor.

    Types asked for must each be allowed (PermissionDenied naming the scope needed);
    with none asked for, the offered types its scopes allow. No scopes: unchanged.
    """
    if asked:
        wanted = list(asked)
        for rtype in wanted:
            require_scope(actor, rtype, "read")
        return wanted
    offered = list(offered)
    kept = [t for t in offered if allows(actor.scopes, t, "read")]
    if not kept:
        granted = " ".join(actor.scopes or ()) or "none"
        raise PermissionDenied(
            f"the access token's scopes ({granted}) allow reading none of "
            f"{', '.join(offered)}; ask for system/*.read or name types with _type"
        )
    return kept


def _intersection(wanted: Scope, held: Scope) -> Scope | None:
    if wanted.context != held.context:
        return None
    if wanted.resource == "*":
        resource = held.resource
    elif held.resource in ("*", wanted.resource):
        resource = wanted.resource
    else:
        return None
    both = set(wanted.permissions) & set(held.permissions)
    letters = "".join(c for c in LETTERS if c in both)
    if not letters:
        return None
    return Scope(wanted.context, resource, letters, v1=wanted.v1)


def narrow(requested: Iterable[Scope], allowed: Iterable[Scope]) -> tuple[Scope, ...]:
    """What of `requested` `allowed` grants: each requested scope cut down to what
    an allowed one covers (system/*.read against system/Patient.rs gives
    system/Patient.read); scopes covered by another granted one are dropped."""
    held = list(allowed)
    cuts = [
        cut for wanted in requested for h in held
        if (cut := _intersection(wanted, h)) is not None
    ]  # fmt: skip
    # Keep a scope unless another covers it (the first of two equal ones stays).
    return tuple(
        s for i, s in enumerate(cuts)
        if not any(
            o.covers(s) and (j < i or not s.covers(o))
            for j, o in enumerate(cuts) if j != i
        )
    )  # fmt: skip
