"""Keys for tolerant patient search: a surname's sound (metaphone), a given name's
nickname equivalents, a birth date with day and month swapped, an MRN with or
without its leading zeros."""

from __future__ import annotations

import re
from datetime import date
from functools import cache

import jellyfish

from recordroom.kernel.text import search_key

_MAX_SOUND = 40  # PatientName.family_sound


def sound_key(family_key: str) -> str:
    """Metaphone code of a family-name key, spaces ignored ('smyth', 'smith' ->
    'SM0'); empty for a key without Latin letters (nothing to sound out)."""
    compact = re.sub(r"[^a-z]", "", family_key or "")
    if not compact:
        return ""
    try:
        return (jellyfish.metaphone(compact) or "")[:_MAX_SOUND].upper()
    except (ValueError, IndexError):
        return ""


@cache
def _families() -> dict[str, frozenset[str]]:
    """given-name key -> every key of its nickname family ('jon' -> jon, john,
    jonathan, johnny, jack ...; a formal name and the nicknames it has)."""
    from .linkage.nicknames import MORE_NICKNAMES, NICKNAMES

    by_formal: dict[str, set[str]] = {}
    for table in (NICKNAMES, MORE_NICKNAMES):
        for formal, nicks in table.items():
            group = by_formal.setdefault(search_key(formal), {search_key(formal)})
            group.update(search_key(n) for n in nicks)
    out: dict[str, set[str]] = {}
    for group in by_formal.values():
        for name in group:
            out.setdefault(name, set()).update(group)
    return {name: frozenset(group) for name, group in out.items()}


def nickname_family(given_key: str) -> frozenset[str]:
    """The given-name keys that may be the same person's name, itself excluded."""
    return _families().get(given_key, frozenset()) - {given_key}


def formal_of(a: str, b: str) -> str:
    """Of two names of one nickname family, the longer (the formal one, mostly)."""
    return a if len(a) >= len(b) else b


def swapped(day: date | None) -> date | None:
    """The date with day and month swapped (03/04 for 04/03), if that is a date and
    another one."""
    if day is None or day.day == day.month or day.day > 12:
        return None
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


MAX_MRN = 30


def zero_variants(lookup: str) -> list[str]:
    """An identifier key of digits with and without leading zeros ('1234' ->
    '01234', '001234', ... up to 12 digits; '001234' -> '1234', '01234' ...)."""
    if not lookup.isdigit():
        return []
    bare = lookup.lstrip("0") or "0"
    width = max(12, len(lookup))
    return [
        v for v in ("0" * n + bare for n in range(width - len(bare) + 1)) if v != lookup
    ]
