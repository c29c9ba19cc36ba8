"""Display names for the index's internals (recordroom.mpi.display), as filters:
`{{ ident.system|system_label:ident.facility }}`, `{{ e.comparison|comparison_label }}`,
`{{ e.level|level_label }}`."""

from __future__ import annotations

from typing import Any

from django import template

from recordroom.kernel.text import with_article
from recordroom.mpi import display

register = template.Library()


@register.filter
def system_label(system: str, facility: Any = None) -> str:
    return display.system_label(system or "", facility)


@register.filter
def comparison_label(name: str) -> str:
    return display.comparison_label(name or "")


@register.filter
def level_label(label: str) -> str:
    return display.level_label(label or "")


@register.filter
def code_words(code: str) -> str:
    """A code read as words: "psychotherapy-notes" -> "Psychotherapy notes"."""
    return (code or "").replace("-", " ").replace("_", " ").capitalize()


@register.filter
def article(noun: str) -> str:
    """The noun with "a" or "an": `Record {{ kind|article }}` -> "Record an ..."."""
    return with_article(noun or "")


@register.filter
def overlay_kind_label(kind: str) -> str:
    return display.overlay_kind_label(kind or "")
