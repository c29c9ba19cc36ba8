"""Decisions short of a merge: not a duplicate (until the data changes), linked
(same person kept apart, FHIR seealso), deferred."""

from __future__ import annotations

from datetime import date

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.decisions import decide_pair, standing
from recordroom.mpi.services import update_patient
from tests import factories
from tests.interop.fhir.test_fhir_api import fhir_for


@pytest.fixture
def pair(db, facility):
    a = factories.patient(
        facility=facility, family="Ito", given="Ken", birth_date=date(1970, 1, 2)
    )
    b = factories.patient(
        facility=facility, family="Ito", given="Ken", birth_date=date(1970, 1, 3)
    )
    return a, b


@pytest.fixture
def actor(db, facility):
    return factories.actor(
        factories.user("dec1", "him_specialist", facilities=[facility])
    )


def test_not_a_duplicate_stands_until_the_data_changes(pair, actor):
    a, b = pair
    decide_pair(
        actor=actor, a=a, b=b, decision="not-duplicate", note="father and son, both Ken"
    )
    assert standing(b.pk, a.pk).decision == "not-duplicate"  # either order
    update_patient(actor=actor, patient=b, changes={"birth_date": date(1998, 5, 5)})
    assert standing(a.pk, b.pk) is None  # changed since: suggested again
    assert AuditEvent.objects.filter(action="mpi.pair_decision").count() == 2


def test_a_decision_needs_a_note_and_two_records(pair, actor):
    a, b = pair
    with pytest.raises(ValidationFailed, match="say why"):
        decide_pair(actor=actor, a=a, b=b, decision="deferred")
    with pytest.raises(ValidationFailed, match="two different records"):
        decide_pair(actor=actor, a=a, b=a, decision="linked")


def test_linked_records_point_at_each_other_in_fhir(pair, actor, him):
    a, b = pair
    decide_pair(actor=actor, a=a, b=b, decision="linked")
    body = fhir_for(him).get(f"Patient/{a.pk}").json()
    assert body["link"] == [
        {"other": {"reference": f"Patient/{b.pk}"}, "type": "seealso"}
    ]
