"""Who is told when a chart changes: apps above records (chart completion) register a
listener here in their AppConfig.ready, so records never imports them (DESIGN.md
rules 1 and 6). The records services call `chart_changed` after their write."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.db import transaction

from recordroom.kernel.actor import Actor

logger = logging.getLogger(__name__)

# What changed: a visit's admission, discharge or providers; a document filed,
# signed, versioned, or its status changed (entered in error, made final).
ENCOUNTER = "encounter"
DOCUMENT_FILED = "document.filed"
DOCUMENT_SIGNED = "document.signed"
DOCUMENT_VERSION = "document.version"
DOCUMENT_STATUS = "document.status"


class ChartListener(Protocol):
    def __call__(self, *, actor: Actor, encounter_id: Any, event: str) -> None: ...


_LISTENERS: list[ChartListener] = []


def register_chart_listener(listener: ChartListener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def chart_changed(*, actor: Actor, encounter_id: Any, event: str) -> None:
    """Tell every listener that the visit's chart changed. A listener's failure is
    logged and never undoes the change that was made (the listener runs in a
    savepoint; the nightly run catches up)."""
    if encounter_id is None:
        return
    for listener in _LISTENERS:
        try:
            with transaction.atomic():
                listener(actor=actor, encounter_id=encounter_id, event=event)
        except Exception:
            logger.exception(
                "chart listener %r failed on %s for encounter %s",
                listener,
                event,
                encounter_id,
            )
