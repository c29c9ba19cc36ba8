"""The three states of an HL7 v2 field: empty (nothing between the bars: leave the
stored value as it is), the HL7 null `""` (delete the stored value), or a value."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from .parser import Segment, parse_date, parse_datetime

NULL = '""'


def is_null(seg: Segment, n: int) -> bool:
    """Whether field `n` is the HL7 null: the sender asks to delete the value."""
    return seg.raw(n).strip() == NULL


def clean(value: str) -> str:
    """A component's value, with a null component read as no value."""
    return "" if value == NULL else value


def date_field(seg: Segment, n: int) -> date | None | str:
    """Field `n` as a date; NULL when it is `""`, None when empty."""
    if is_null(seg, n):
        return NULL
    return parse_date(seg.comp(n), f"{seg.name}-{n}")


def datetime_field(seg: Segment, n: int, tz: tzinfo) -> datetime | None | str:
    """Field `n` as a date/time; NULL when it is `""`, None when empty."""
    if is_null(seg, n):
        return NULL
    return parse_datetime(seg.comp(n), f"{seg.name}-{n}", tz)
