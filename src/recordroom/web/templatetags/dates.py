"""Dates on pages, on the facility's calendar (kernel.clock):
`{% timezone req|zone %}` shows a block in a facility's zone; `{{ instant|day:req }}`
is its local date ("2026-12-07"), `{{ instant|longdate:req }}` the letters' form."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from django import template

from recordroom.kernel import clock

register = template.Library()


@register.filter
def zone(where: Any) -> tzinfo:
    """The zone of a facility, or of a row that has one (UTC when none is known)."""
    return clock.zone_of(where)


@register.filter
def day(value: date | datetime | None, where: Any = None) -> str:
    return clock.short_date(value, where if where not in (None, "") else "UTC")


@register.filter
def longdate(value: date | datetime | None, where: Any = None) -> str:
    return clock.long_date(value, where if where not in (None, "") else "UTC")
