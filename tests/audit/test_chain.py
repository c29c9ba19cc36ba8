"""R-SEC-2: the audit trail is append-only, hash-chained and verifiable."""

import pytest
from django.db import DatabaseError, connection, transaction

from recordroom.audit.chain import GENESIS, verify
from recordroom.audit.models import AuditEvent
from recordroom.audit.services import EventSpec, record, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.db import append_only_sql, drop_append_only_sql

ACTOR = Actor(
    channel="test", client_address="10.0.0.7", request_id="req-1", name="tester"
)


def _events(n):
    return [
        record(
            actor=ACTOR,
            action=actions.PATIENT_SEARCH.name,
            detail={"name": f"smith{i}"},
        )
        for i in range(n)
    ]


def test_r_sec_2_events_chain_from_genesis(db):
    first, second = _events(2)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert (first.id, second.id) == (1, 2)
    stored = AuditEvent.objects.get(pk=2)
    assert stored.username == "tester" and stored.client_address == "10.0.0.7"
    assert stored.detail == '{"name":"smith1"}'
    assert verify().intact and verify().count == 2


def test_r_sec_2_update_and_delete_are_refused_by_the_database(db):
    _events(1)
    for sql in (
        "UPDATE audit_auditevent SET username = 'mallory'",
        "DELETE FROM audit_auditevent",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql)
    assert AuditEvent.objects.get().username == "tester"


def test_r_sec_2_orm_refuses_changes(db):
    (event,) = _events(1)
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()


def _tamper(sql, params):
    """Drop the triggers, change a row with raw SQL, and put the triggers back."""
    vendor = connection.vendor
    with connection.cursor() as cur:
        for stmt in drop_append_only_sql("audit_auditevent", vendor):
            cur.execute(stmt)
        cur.execute(sql, params)
        for stmt in append_only_sql("audit_auditevent", vendor):
            cur.execute(stmt)


def test_r_sec_2_verify_names_an_altered_event(db):
    _events(5)
    _tamper("UPDATE audit_auditevent SET username = %s WHERE id = %s", ["mallory", 3])
    result = verify()
    assert not result.intact
    assert result.broken_id == 3
    assert "event 3 was altered" in result.reason
    assert result.count == 2


def test_r_sec_2_verify_names_a_removed_event(db):
    _events(5)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [2])
    result = verify()
    assert result.broken_id == 2 and "missing" in result.reason


def test_r_sec_2_verify_detects_a_rehashed_event(db):
    """Recomputing one event's own hash still breaks the link to the next one."""
    from recordroom.audit.chain import COLUMNS, event_hash

    _events(4)
    row = AuditEvent.objects.values_list(*COLUMNS).get(pk=2)
    forged = list(row)
    forged[3] = "mallory"
    prev = AuditEvent.objects.get(pk=1).hash
    _tamper(
        "UPDATE audit_auditevent SET username = %s, hash = %s WHERE id = %s",
        ["mallory", event_hash(prev, forged), 2],
    )
    result = verify()
    assert result.broken_id == 3 and "does not follow event 2" in result.reason


def test_r_sec_2_bulk_events_continue_the_chain(db):
    _events(1)
    record_many(
        EventSpec(ACTOR, actions.DEMO_LOAD.name, detail={"i": i}) for i in range(50)
    )
    assert verify().count == 51


def test_write_and_event_commit_or_fail_together(db, facility):
    """DESIGN rule 3: a failed write leaves no event, and the other way round."""
    from recordroom.kernel.errors import ValidationFailed
    from recordroom.mpi.models import Patient
    from recordroom.mpi.services import (
        IdentifierIn,
        NameIn,
        PatientIn,
        register_patient,
    )

    before = (Patient.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed, match="needs a value"):
        register_patient(
            actor=ACTOR,
            data=PatientIn(
                names=[NameIn(family="Doe")],
                identifiers=[IdentifierIn(kind="MR", value="", facility=facility)],
            ),
        )
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before


def test_control_characters_cannot_forge_the_separator(db):
    event = record(
        actor=Actor(channel="test", name="a\x1fb\nc"), action=actions.LOGIN.name
    )
    assert event.username == "a b c"
    assert verify().intact


def test_undeclared_action_is_refused(db):
    with pytest.raises(KeyError, match="not declared"):
        record(actor=ACTOR, action="patient.teleport")
