"""A unit of work (kernel.unit): whole or nothing, no savepoints inside, and the audit
chain's head kept between its events only while nothing could have taken one back."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from recordroom.audit.chain import verify
from recordroom.audit.models import AuditEvent
from recordroom.audit.services import record
from recordroom.kernel import actions, unit
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed

ACTOR = Actor(channel="hl7", name="hl7:test")
SEARCH = actions.PATIENT_SEARCH.name


def _count(action=SEARCH):
    return AuditEvent.objects.filter(action=action).count()


@pytest.mark.django_db
def test_events_in_a_unit_chain_on_the_head_they_wrote():
    before = _count()
    with unit.unit() as held:
        record(actor=ACTOR, action=SEARCH, detail={"n": 1})
        first = held.chain_head
        record(actor=ACTOR, action=SEARCH, detail={"n": 2})
        assert held.chain_head[0] == first[0] + 1  # the kept head moved on
    assert _count() == before + 2
    assert verify().intact


@pytest.mark.django_db
def test_an_event_taken_back_by_a_savepoint_is_not_chained_on():
    """An event written inside a savepoint that is then rolled back is gone: the next
    event is chained on the head the database holds, not on the one remembered."""
    before = _count()
    with unit.unit():
        record(actor=ACTOR, action=SEARCH, detail={"n": 1})
        with pytest.raises(RuntimeError):
            with transaction.atomic():  # a savepoint, as a listener keeps one
                record(actor=ACTOR, action=SEARCH, detail={"n": "taken back"})
                raise RuntimeError("the listener failed")
        record(actor=ACTOR, action=SEARCH, detail={"n": 3})
    assert _count() == before + 2
    assert verify().intact


@pytest.mark.django_db
def test_a_service_failing_in_a_unit_cannot_be_caught_and_half_kept():
    """Inside a unit, services open no savepoint: an error caught half-way leaves the
    transaction unusable (Django refuses the next query) and nothing is committed."""
    before = _count()
    with pytest.raises(TransactionManagementError):
        with unit.unit():
            record(actor=ACTOR, action=SEARCH, detail={"n": 1})
            try:
                with unit.atomic():
                    record(actor=ACTOR, action=SEARCH, detail={"n": 2})
                    raise ValidationFailed("refused")
            except ValidationFailed:
                pass
            record(actor=ACTOR, action=SEARCH, detail={"n": 3})
    assert _count() == before
    assert verify().intact


@pytest.mark.django_db
def test_outside_a_unit_a_service_keeps_its_savepoint():
    before = _count()
    with transaction.atomic():
        record(actor=ACTOR, action=SEARCH, detail={"n": 1})
        try:
            with unit.atomic():
                record(actor=ACTOR, action=SEARCH, detail={"n": 2})
                raise ValidationFailed("refused")
        except ValidationFailed:
            pass
        record(actor=ACTOR, action=SEARCH, detail={"n": 3})
    assert _count() == before + 2
    assert unit.current() is None
    assert verify().intact
