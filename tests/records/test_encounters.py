"""Encounter changes after recording: only real changes are written and audited, and
the status follows the admit/discharge/cancel flow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.records.encounters import update_encounter
from tests import factories


@pytest.fixture
def visit(chart_patient, facility):
    return factories.encounter(patient=chart_patient, facility=facility, account="E1")


def test_an_unchanged_value_writes_nothing(visit):
    assert (
        update_encounter(
            actor=factories.SYSTEM, encounter=visit, changes={"status": "finished"}
        )
        == []
    )
    assert not AuditEvent.objects.filter(action="encounter.update").exists()


def test_a_finished_visit_reopens_but_is_not_cancelled(visit):
    with pytest.raises(Conflict, match="is finished and cannot become cancelled"):
        update_encounter(
            actor=factories.SYSTEM, encounter=visit, changes={"status": "cancelled"}
        )
    changed = update_encounter(
        actor=factories.SYSTEM,
        encounter=visit,
        changes={"status": "in-progress", "discharge_at": None},
    )
    assert changed == ["discharge_at", "status"]
    with pytest.raises(ValidationFailed, match="needs its discharge time"):
        update_encounter(
            actor=factories.SYSTEM, encounter=visit, changes={"status": "finished"}
        )
    visit.refresh_from_db()
    assert visit.status == "in-progress"


def test_bad_values_are_refused_naming_them(visit):
    with pytest.raises(ValidationFailed, match="unknown discharge disposition '99'"):
        update_encounter(
            actor=factories.SYSTEM,
            encounter=visit,
            changes={"discharge_disposition": "99"},
        )
    with pytest.raises(ValidationFailed, match="cannot change patient"):
        update_encounter(
            actor=factories.SYSTEM, encounter=visit, changes={"patient": 1}
        )
    with pytest.raises(ValidationFailed, match="is before admission"):
        update_encounter(
            actor=factories.SYSTEM,
            encounter=visit,
            changes={"discharge_at": visit.admit_at - timedelta(hours=1)},
        )
