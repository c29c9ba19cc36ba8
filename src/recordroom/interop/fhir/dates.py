"""FHIR R4 date search: a value's implicit range at the precision given, compared
with each resource's range under the nine prefixes (eq ne gt lt ge le sa eb ap)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from recordroom.kernel.errors import RecordroomError

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_VALUE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


class Invalid(RecordroomError):
    code = "invalid"
    status = 400


@dataclass(frozen=True)
class Value:
    """A search value: its prefix and implicit range [lo, hi), timezone-aware."""

    prefix: str
    lo: datetime
    hi: datetime


def parse(value: str, param: str) -> Value:
    prefix = value[:2] if value[:2] in PREFIXES else "eq"
    text = value[2:] if value[:2] == prefix else value
    m = _VALUE.fullmatch(text)
    try:
        if m is None:
            raise ValueError
        lo, hi = _range(m)
    except ValueError:
        raise Invalid(
            f"{param} must be a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or "
            f"YYYY-MM-DDThh:mm[:ss][Z|+hh:mm]) with an optional prefix "
            f"({' '.join(PREFIXES)}), not {value!r}", field=param,
        ) from None  # fmt: skip
    return Value(prefix, lo, hi)


def _range(m: re.Match[str]) -> tuple[datetime, datetime]:
    g = m.groupdict()
    year, month, day = int(g["y"]), int(g["m"] or 1), int(g["d"] or 1)
    zone: Any = timezone.get_current_timezone()
    if g["tz"]:
        zone = UTC if g["tz"] == "Z" else datetime.strptime(g["tz"], "%z").tzinfo
    start = datetime(year, month, day, int(g["H"] or 0), int(g["M"] or 0),
                     int(g["S"] or 0), tzinfo=zone)  # fmt: skip
    if g["f"]:
        start += timedelta(microseconds=round(float(g["f"]) * 1_000_000))
        end = start + timedelta(microseconds=1)
    elif g["S"]:
        end = start + timedelta(seconds=1)
    elif g["M"]:
        end = start + timedelta(minutes=1)
    elif g["d"]:
        end = start + timedelta(days=1)
    elif g["m"]:
        end = start.replace(year=year + month // 12, month=month % 12 + 1)
    else:
        end = start.replace(year=year + 1)
    return start, end


# --- what a resource's range is, as two primitives -----------------------------


@dataclass(frozen=True)
class Column:
    """How a resource's date is stored, as four conditions on its range: some of
    it lies before x (`starts_before`) or none does (`starts_from`); some of it
    lies at or after x (`ends_after`) or none does (`ends_before`). `known`: it has
    one. Each is a plain comparison, never a NOT, so that an index serves it."""

    starts_before: Callable[[datetime], Q]
    starts_from: Callable[[datetime], Q]
    ends_after: Callable[[datetime], Q]
    ends_before: Callable[[datetime], Q]
    known: Q


def _cmp(
    name: str, op: str, convert: Callable[[datetime], Any]
) -> Callable[[datetime], Q]:
    return lambda x: Q(**{f"{name}__{op}": convert(x)})


def instant(name: str, convert: Callable[[datetime], Any] = lambda x: x) -> Column:
    """A point in time (a timestamp column; `convert` for other encodings)."""
    before, since = _cmp(name, "lt", convert), _cmp(name, "gte", convert)
    return Column(before, since, since, before, Q(**{f"{name}__isnull": False}))


def _local_day(x: datetime) -> tuple[date, bool]:
    """The calendar day x falls on (the server's zone), and whether x is its start."""
    local = timezone.localtime(x, timezone.get_current_timezone())
    return local.date(), local.time() == datetime.min.time()


def day(name: str) -> Column:
    """A calendar date, the whole day: [d, d + 1 day)."""

    def first_day_from(x: datetime) -> date:  # the first day starting at or after x
        d, midnight = _local_day(x)
        return d if midnight else d + timedelta(days=1)

    return Column(
        lambda x: Q(**{f"{name}__lt": first_day_from(x)}),
        lambda x: Q(**{f"{name}__gte": first_day_from(x)}),
        lambda x: Q(**{f"{name}__gte": _local_day(x)[0]}),
        lambda x: Q(**{f"{name}__lt": _local_day(x)[0]}),
        Q(**{f"{name}__isnull": False}),
    )


def period(start: str, end: str, *, open_end: bool = True) -> Column:
    """[start, end]. A missing end is still open (an encounter in progress), or
    with `open_end=False` the range is the moment `start` (a procedure's
    performedDateTime)."""
    no_end = Q(**{f"{end}__isnull": True})

    def ends_after(x: datetime) -> Q:
        if open_end:
            return Q(**{f"{end}__gte": x}) | no_end
        return Q(**{f"{end}__gte": x}) | (no_end & Q(**{f"{start}__gte": x}))

    def ends_before(x: datetime) -> Q:
        if open_end:
            return Q(**{f"{end}__lt": x})
        return Q(**{f"{end}__lt": x}) | (no_end & Q(**{f"{start}__lt": x}))

    return Column(_cmp(start, "lt", _same), _cmp(start, "gte", _same), ends_after,
                  ends_before, Q(**{f"{start}__isnull": False}))  # fmt: skip


def _same(x: datetime) -> datetime:
    return x


def condition(column: Column, value: str, param: str) -> Q:
    """The resources whose range satisfies `param=value` (FHIR R4 search, date)."""
    v = parse(value, param)
    lo, hi = v.lo, v.hi
    c = column
    inside = c.starts_from(lo) & c.ends_before(hi)
    if v.prefix == "ap":
        # "Approximately": 10% of the distance from now, at least a day each side.
        now = timezone.now()
        gap = max(abs(now - lo), abs(now - hi)) / 10
        slack = max(gap, timedelta(days=1))
        lo, hi = lo - slack, hi + slack
    q = {
        "eq": inside,
        "ne": c.starts_before(lo) | c.ends_after(hi),
        # "The range above the search value intersects the target's", and ge/le
        # also "the search value's range fully contains it" (R4 3.1.1.4.7).
        "gt": c.ends_after(hi),
        "lt": c.starts_before(lo),
        "ge": c.ends_after(hi) | inside,
        "le": c.starts_before(lo) | inside,
        "sa": c.starts_from(hi),
        "eb": c.ends_before(lo),
        "ap": c.starts_before(hi) & c.ends_after(lo),
    }[v.prefix]
    return column.known & q
