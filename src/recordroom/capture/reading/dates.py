"""Dates as people print them (01/02/1960, 1960-01-02, Jan 2, 1960, 2 January 1960,
01-02-60), read through OCR noise, US month-first unless the day cannot be a month."""

from __future__ import annotations

import re
from datetime import date

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

_MONTH = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"  # noqa: E501
# digits as OCR reads them: O for 0, l/I/| for 1, S for 5
_D = r"[0-9OoIl|S]"
PATTERNS = (
    # 1960-01-02
    re.compile(rf"(?P<y>(?:19|20)\d\d)\s?[-/.]\s?(?P<m>{_D}{{1,2}})\s?[-/.]\s?(?P<d>{_D}{{1,2}})(?![0-9])"),
    # 01/02/1960, 1/2/60, 01-02-1960, 01.02.1960
    re.compile(rf"(?<![0-9])(?P<m>{_D}{{1,2}})\s?[-/.]\s?(?P<d>{_D}{{1,2}})\s?[-/.]\s?(?P<y>{_D}{{4}}|{_D}{{2}})(?![0-9])"),
    # Jan 2, 1960 / January 2nd 1960
    re.compile(rf"{_MONTH}\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[,;.]?\s*(?P<y>\d{{4}})", re.I),
    # 2 January 1960 / 02-Jan-1960
    re.compile(rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s-]*{_MONTH}[\s,-]*(?P<y>\d{{4}}|\d\d)(?![0-9])", re.I),
)  # fmt: skip

_FIX = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "S": "5"})


def _year(text: str, *, past: bool, today: date) -> int:
    y = int(text)
    if len(text) == 4:
        return y
    # two digits: a birth year is in the past; a service date in this century
    century = 2000 if (y <= today.year % 100 or not past) else 1900
    return century + y


def parse(
    text: str, *, past: bool = True, today: date | None = None
) -> list[tuple[date, int, int]]:
    """Every date in `text`, as (date, start, end), left to right. `past`: a birth
    date (a two-digit year is read as the latest year not in the future)."""
    today = today or date.today()
    out: list[tuple[date, int, int]] = []
    taken: list[tuple[int, int]] = []
    for pattern in PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            found = _from_match(m, past=past, today=today)
            if found is not None:
                out.append((found, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    return sorted(out, key=lambda t: t[1])


def _from_match(m: re.Match[str], *, past: bool, today: date) -> date | None:
    groups = m.groupdict()
    try:
        year = _year(groups["y"].translate(_FIX), past=past, today=today)
        day = int(groups["d"].translate(_FIX))
        if groups.get("mon"):
            month = MONTHS[groups["mon"].lower()[:3]]
        else:
            month = int(groups["m"].translate(_FIX))
            if month > 12 >= day:  # 25/12/1960: the day came first
                month, day = day, month
        found = date(year, month, day)
    except (ValueError, KeyError):
        return None
    if not date(1890, 1, 1) <= found <= date(today.year + 1, 12, 31):
        return None
    return found
