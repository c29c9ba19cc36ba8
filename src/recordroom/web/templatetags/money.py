"""`{{ cents|dollars }}`: an amount kept in cents, shown as $1,234.50."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def dollars(cents: int | None) -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(int(cents)) / 100:,.2f}"
