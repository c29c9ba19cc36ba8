"""A unit of work: one transaction that commits whole or not at all.

Why: a service opens `transaction.atomic()` so that it is whole when it is called on
its own (a web request, the CLI). Called inside a larger transaction, each such block
is a SAVEPOINT and a RELEASE: two statements, and the Python of two atomic blocks,
that buy a partial rollback nobody uses when the caller rolls back everything on any
error. The HL7 listener's message is such a caller (an error anywhere answers AE and
keeps nothing of the message): its services ran about 2.4 savepoints a message, and
the audit chain's head was read again for each of its three events
(docs/performance.md, HL7 ADT).

Inside `unit()`:
- `atomic()` opens no savepoint. A service that fails inside it marks the whole
  transaction for rollback, as Django does for any block without a savepoint: a caller
  cannot catch the error and go on writing (Django refuses the next query), so nothing
  is ever half-kept.
- the unit carries what its transaction holds and may keep (the audit chain's head:
  audit.services), dropped with the unit.

Code that catches an error and goes on (a listener that must not undo the change it
watches) keeps using `transaction.atomic()`, which keeps its savepoint everywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

_LOCAL = threading.local()


class Unit:
    """What one unit's transaction may remember until it ends (see audit.services)."""

    __slots__ = ("chain_head",)

    def __init__(self) -> None:
        self.chain_head: Any = None


@contextmanager
def unit() -> Iterator[Unit]:
    """One transaction, whole or nothing: the services inside open no savepoints."""
    with transaction.atomic():
        outer = getattr(_LOCAL, "unit", None)
        current = _LOCAL.unit = Unit()
        try:
            yield current
        finally:
            _LOCAL.unit = outer


def current() -> Unit | None:
    """The unit this thread is in, if any."""
    return getattr(_LOCAL, "unit", None)


def atomic() -> Any:
    """`transaction.atomic()` for a service: a savepoint of its own only outside a unit."""
    return transaction.atomic(savepoint=getattr(_LOCAL, "unit", None) is None)
