"""Normal forms the comparisons work on: name keys and phonetic codes, phone digits,
e-mail, USPS-style street addresses, and birth dates as digits."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import jellyfish

from recordroom.kernel.text import search_key

_SUFFIXES = {"jr": 1, "junior": 1, "sr": 2, "senior": 2, "ii": 3, "2nd": 3,
             "iii": 4, "3rd": 4, "iv": 5, "4th": 5}  # fmt: skip
_STREET_WORDS = {
    "street": "st", "str": "st", "avenue": "ave", "av": "ave", "road": "rd",
    "drive": "dr", "lane": "ln", "court": "ct", "boulevard": "blvd", "place": "pl",
    "circle": "cir", "terrace": "ter", "highway": "hwy", "parkway": "pkwy",
    "square": "sq", "trail": "trl", "way": "wy", "crossing": "xing", "point": "pt",
    "mount": "mt", "heights": "hts", "north": "n", "south": "s", "east": "e",
    "west": "w", "northeast": "ne", "northwest": "nw", "southeast": "se",
    "southwest": "sw", "apartment": "apt", "suite": "ste", "unit": "unit",
    "number": "", "no": "", "floor": "fl", "building": "bldg", "route": "rte",
}  # fmt: skip
_NON_DIGIT = re.compile(r"\D")


_NOT_ALNUM = re.compile(r"[^\w ]+|_")


def name_key(text: str | None) -> str:
    """Case-, accent- and punctuation-free name ('O'Brien-Núñez' -> 'obrien nunez'):
    kernel.text.search_key, with a fast path for plain ASCII (most values)."""
    if not text:
        return ""
    if text.isascii():
        return " ".join(_NOT_ALNUM.sub(" ", text.lower().replace("'", "")).split())
    return search_key(text)


def name_parts(key: str) -> list[str]:
    """The words of a compound name ('garcia lopez' -> ['garcia', 'lopez'])."""
    return [p for p in key.split() if len(p) > 1] if " " in key else []


@lru_cache(maxsize=200_000)
def phonetic(key: str) -> str:
    """Metaphone code of a name key, spaces ignored ('smyth' and 'smith' -> 'SM0')."""
    compact = key.replace(" ", "")
    if not compact:
        return ""
    try:
        return jellyfish.metaphone(compact) or compact.upper()
    except (ValueError, IndexError):  # letters outside Latin script
        return compact.upper()


def suffix_class(text: str | None) -> int:
    """0 no suffix; 1 Jr, 2 Sr, 3 II, 4 III, 5 IV (generations are different people)."""
    return _SUFFIXES.get(search_key(text).replace(" ", ""), 0)


def phone_digits(value: str | None) -> str:
    digits = _NON_DIGIT.sub("", value or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits[-10:]


def email_key(value: str | None) -> str:
    return (value or "").strip().casefold()


def street_key(line: str | None) -> str:
    """USPS-style abbreviations: '12 North Oak Street' -> '12 n oak st'."""
    words = name_key(line).split()
    return " ".join(w for w in (_STREET_WORDS.get(w, w) for w in words) if w)


def zip5(postal_code: str | None) -> str:
    head = (postal_code or "")[:5]
    return head if head.isdigit() else _NON_DIGIT.sub("", postal_code or "")[:5]


def date_int(value: date | None) -> int:
    return value.year * 10_000 + value.month * 100 + value.day if value else -1


def date_digits(value: int) -> list[int]:
    """MMDDYYYY digits of a yyyymmdd integer (how registration keys a birth date)."""
    text = f"{value % 10_000:04d}{value // 10_000:04d}"
    return [int(c) for c in text]
