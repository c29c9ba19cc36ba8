"""Placeholder values registration fills in when it does not know: never evidence.

A placeholder (UNKNOWN, BABY BOY, JOHN DOE, 999-99-9999, 1900-01-01 ...) counts as a
missing value: it neither supports nor weakens a match.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache

PLACEHOLDER_NAMES = frozenset(
    {
        "unknown", "unk", "unkn", "unknwn", "none", "na", "n a", "nfn", "nln", "fnu",
        "lnu", "nmn", "test", "testing", "patient", "pt", "baby", "baby boy",
        "baby girl", "babyboy", "babygirl", "bb", "bg", "boy", "girl", "male",
        "female", "infant", "newborn", "nb", "twin", "twin a", "twin b", "trauma",
        "anonymous", "anon", "unidentified", "unnamed", "noname", "no name", "doe",
        "zzz", "xxx", "xx", "x", "null", "refused", "declined", "deceased",
    }
)  # fmt: skip
_DOE_GIVEN = frozenset({"john", "jane", "baby", "unknown"})
PLACEHOLDER_DATES = frozenset(
    {
        date(1900, 1, 1), date(1901, 1, 1), date(1899, 12, 31), date(1800, 1, 1),
        date(1850, 1, 1), date(1111, 11, 11), date(2099, 12, 31), date(9999, 12, 31),
    }
)  # fmt: skip
EARLIEST_BIRTH = date(1880, 1, 1)
PLACEHOLDER_SSNS = (
    *(str(d) * 9 for d in range(10)),
    "123456789", "987654321", "078051120", "219099999", "012345678",
)  # fmt: skip
_PLACEHOLDER_PHONES = frozenset(
    {"1234567890", "0123456789", "9876543210", "5555555555", "5551234567"}
)
_EMAIL_LOCALS = frozenset(
    {"none", "noemail", "no", "na", "nomail", "unknown", "declined", "refused",
     "noreply", "no reply", "test", "x", "xx", "xxx"}
)  # fmt: skip
_ADDRESS_LINES = frozenset(
    {"unknown", "homeless", "none", "na", "n a", "no address", "no fixed address",
     "nfa", "general delivery", "unk", "declined", "refused", "x", "xx", "xxx"}
)  # fmt: skip
_REPEATED = re.compile(r"^(.)\1*$")


@cache
def is_placeholder_name(key: str) -> bool:
    """A name's search key that says nothing about who the person is."""
    return (
        not key
        or key in PLACEHOLDER_NAMES
        or bool(_REPEATED.match(key.replace(" ", "")))
        or not any(c.isalpha() for c in key)
    )


def is_placeholder_pair(family: str, given: str) -> bool:
    """JOHN DOE, BABY DOE: the pair, not the parts, is the placeholder."""
    return family == "doe" and given in _DOE_GIVEN


def is_placeholder_date(value: date | None) -> bool:
    return value is None or value in PLACEHOLDER_DATES or value < EARLIEST_BIRTH


def is_placeholder_ssn_digits(digits: str) -> bool:
    """An SSN no one holds: listed values, area 000 or 666, group 00, serial 0000."""
    return (
        len(digits) != 9
        or digits in PLACEHOLDER_SSNS
        or digits[:3] in ("000", "666")
        or digits[3:5] == "00"
        or digits[5:] == "0000"
    )


@cache
def placeholder_ssn_lookups() -> frozenset[str]:
    """Keyed hashes of the listed placeholder SSNs (SSNs are stored hashed)."""
    from recordroom.mpi.services import ssn_lookup

    return frozenset(ssn_lookup(d) for d in PLACEHOLDER_SSNS)


def is_placeholder_phone(digits: str) -> bool:
    return (
        len(digits) < 7
        or digits in _PLACEHOLDER_PHONES
        or bool(_REPEATED.match(digits[-7:]))
    )


def is_placeholder_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return not at or not domain or local in _EMAIL_LOCALS or "." not in domain


def is_placeholder_address(line1_key: str) -> bool:
    return (
        line1_key in _ADDRESS_LINES
        or not line1_key
        or bool(_REPEATED.match(line1_key.replace(" ", "")))
    )
