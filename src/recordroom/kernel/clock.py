"""The one clock of the legal record: instants are stored in UTC; every date a person
reads or a deadline counts is the facility's calendar date, in its time zone.

`where` is anything that names a zone: a zone name, a ZoneInfo, a facility (an object
with `.timezone`), or a row that belongs to one (an object with `.facility`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

# A facility with no zone, or a zone the system does not know, counts in UTC: the
# fallback is logged once per bad value so an administrator sees which facility.
FALLBACK = "UTC"

_frozen: ContextVar[datetime | None] = ContextVar("recordroom_clock", default=None)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning(
            "unknown time zone %r: dates are shown and counted in %s; set the "
            "facility's time zone in the admin",
            name,
            FALLBACK,
        )
        return ZoneInfo(FALLBACK)


def zone_of(where: Any) -> tzinfo:
    """The zone of `where` (see the module docstring); UTC when none is named or the
    name is unknown."""
    if isinstance(where, tzinfo):
        return where
    if where is not None and not isinstance(where, str):
        if hasattr(where, "timezone"):
            where = where.timezone
        elif getattr(where, "facility", None) is not None:
            where = where.facility.timezone
        else:
            where = None
    if not where or not str(where).strip():
        return ZoneInfo(FALLBACK)
    return _zone(str(where).strip())


def zone_name(where: Any) -> str:
    return str(zone_of(where))


def now() -> datetime:
    """The current instant (aware, UTC), or the instant a `frozen` block holds."""
    return _instant(None)


def _instant(given: datetime | None) -> datetime:
    moment = given or _frozen.get() or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give an aware instant")
    return moment.astimezone(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Hold the clock at `at` (aware) inside the block: for tests and for replaying a
    past day; every caller of `now()` and `today()` sees it."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: give an aware instant")
    token = _frozen.set(at)
    try:
        yield at
    finally:
        _frozen.reset(token)


def local(instant: datetime | None, where: Any) -> datetime | None:
    """The instant on the facility's wall clock (None stays None)."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(zone_of(where))


def local_date(instant: datetime | date | None, where: Any) -> date | None:
    """The facility's calendar date of an instant (a date is already one)."""
    if instant is None:
        return None
    if not isinstance(instant, datetime):
        return instant
    moment = local(instant, where)
    return moment.date() if moment else None


def today(where: Any, *, now: datetime | None = None) -> date:
    """Today on the facility's calendar."""
    return _instant(now).astimezone(zone_of(where)).date()


def start_of_day(day: date, where: Any) -> datetime:
    """The first instant (UTC) of the facility's calendar day."""
    return datetime.combine(day, time.min, zone_of(where)).astimezone(UTC)


def at_local(day: date, where: Any, *, now: datetime | None = None) -> datetime:
    """An instant on the facility's calendar day: now when `day` is today there,
    otherwise its local noon (the middle of the day, far from either midnight)."""
    if day == today(where, now=now):
        return _instant(now)
    return datetime.combine(day, time(12), zone_of(where)).astimezone(UTC)


def add_days(day: date, days: int) -> date:
    """Calendar days: a deadline of 30 days after receipt is the 30th day after it."""
    return day + timedelta(days=days)


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip


def long_date(value: date | datetime | None, where: Any = None) -> str:
    """A date as letters and PDFs print it: "December 7, 2026" (an instant is first
    turned into the facility's date; nothing prints as "")."""
    day = _day(value, where)
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}" if day else ""


def short_date(value: date | datetime | None, where: Any = None) -> str:
    """A date as pages, lists and the CLI print it: "2026-12-07"."""
    day = _day(value, where)
    return day.isoformat() if day else ""


def slash_date(value: date | datetime | None, where: Any = None) -> str:
    """A date as US forms and page stamps print it: "12/07/2026"."""
    day = _day(value, where)
    return f"{day:%m/%d/%Y}" if day else ""


def short_datetime(value: datetime | None, where: Any) -> str:
    """An instant on the facility's wall clock: "2026-12-07 18:30 EST"."""
    moment = local(value, where)
    return f"{moment:%Y-%m-%d %H:%M %Z}" if moment else ""


def _day(value: date | datetime | None, where: Any) -> date | None:
    if isinstance(value, datetime):
        if where is None:
            raise ValueError("an instant needs a facility (its time zone) to be a date")
        return local_date(value, where)
    return value
