"""Plain-SQL rows give what the ORM gives: same values, same types, same writes."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from recordroom.kernel import sqlrows
from recordroom.mpi.models import NameUse, Patient, PatientName
from recordroom.records.models import Encounter


def _values(obj):
    return [getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields]


def test_fetch_reads_rows_as_the_orm_does(encounter):
    enc_table, pat_table = Encounter._meta.db_table, Patient._meta.db_table
    rows = sqlrows.fetch(
        f"SELECT {sqlrows.columns(Encounter, 'e')}, {sqlrows.columns(Patient, 'p')} "
        f"FROM {enc_table} e JOIN {pat_table} p ON p.id = e.patient_id "
        "WHERE e.account_number = %s",
        ["V900123"],
        Encounter,
        Patient,
    )
    assert len(rows) == 1
    got, patient = rows[0]
    stored = Encounter.objects.get(account_number="V900123")
    assert _values(got) == _values(stored)
    assert isinstance(got.id, UUID) and got.admit_at.tzinfo is not None
    assert _values(patient) == _values(stored.patient)
    assert not got._state.adding and got._state.db == "default"


def test_fetch_first_is_none_without_a_row(db):
    sql = (
        f"SELECT {sqlrows.columns(Patient)} FROM {Patient._meta.db_table} WHERE id = %s"
    )
    missing = sqlrows.param(Patient, "id", UUID(int=7))
    assert sqlrows.fetch_first(sql, [missing], Patient) is None


def test_insert_writes_what_save_writes(db):
    patient = Patient(birth_date=date(1961, 4, 2), sex="female")
    sqlrows.insert([patient])
    names = [
        PatientName(patient=patient, family="Okafor", family_key="OKAFOR"),
        PatientName(patient=patient, family="Byrne", use=NameUse.MAIDEN),
    ]
    sqlrows.insert(names)
    assert patient.created_at is not None and not patient._state.adding
    stored = Patient.objects.get(pk=patient.pk)
    assert _values(stored) == _values(patient)
    assert [n.pk for n in names] == list(
        PatientName.objects.filter(patient=patient)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert PatientName.objects.get(pk=names[1].pk).use == NameUse.MAIDEN


def test_update_changes_the_rows_named(db):
    patient = Patient(sex="male")
    sqlrows.insert([patient])
    name = PatientName(patient=patient, family="Lindqvist", family_key="LINDQVIST")
    sqlrows.insert([name])
    changed = sqlrows.update(
        PatientName, [name.pk], use=NameUse.PREVIOUS, period_end=date(2026, 1, 31)
    )
    stored = PatientName.objects.get(pk=name.pk)
    assert changed == 1
    assert (stored.use, stored.period_end) == (NameUse.PREVIOUS, date(2026, 1, 31))
    assert sqlrows.update(PatientName, [], use=NameUse.LEGAL) == 0


def test_an_instance_built_without_init_behaves_as_one_read_by_the_orm(encounter):
    """sqlrows.instance (no Model.__init__) gives what from_db gives: the same
    values, saved state, related objects loaded on access, saved as any."""
    stored = Encounter.objects.get(account_number="V900123")
    values = _values(stored)
    got = sqlrows.instance(Encounter, "default", values)
    built = Encounter.from_db("default", None, values)
    assert _values(got) == _values(built) and got == built
    assert not got._state.adding and got._state.db == "default"
    assert got.patient == stored.patient  # loaded through its key
    got.location = "4E, 12"
    got.save(update_fields=["location"])
    assert Encounter.objects.get(pk=stored.pk).location == "4E, 12"


def _without_generated(obj, *generated):
    values = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    return {k: (None if k in generated else v) for k, v in values.items()}


def test_new_builds_what_the_constructor_builds(encounter):
    """sqlrows.new (no Model.__init__) gives the instance model(**values) gives:
    every field set, defaults made (a fresh id each), foreign keys by object (cached,
    the database named as the descriptor names it) or by id, and the same refusals."""
    patient, facility = encounter.patient, encounter.facility
    when = encounter.admit_at
    kwargs = dict(patient=patient, facility=facility, account_number="V1",
                  encounter_class="IMP", admit_at=when, attending_id=None)  # fmt: skip
    fast, slow = sqlrows.new(Encounter, **kwargs), Encounter(**kwargs)
    assert _without_generated(fast, "id") == _without_generated(slow, "id")
    assert fast.id != slow.id and isinstance(fast.id, UUID)  # each its own default
    assert fast._state.adding and fast._state.db == slow._state.db == "default"
    assert fast.patient is patient and fast.facility is facility  # no query
    by_id = sqlrows.new(PatientName, patient_id=patient.pk, family="Ngata")
    assert by_id.patient_id == patient.pk and by_id.use == NameUse.LEGAL
    assert _without_generated(by_id) == _without_generated(
        PatientName(patient_id=patient.pk, family="Ngata")
    )
    sqlrows.insert([fast])
    assert _values(Encounter.objects.get(pk=fast.pk)) == _values(fast)
    with pytest.raises(TypeError, match="unexpected keyword arguments: colour"):
        sqlrows.new(PatientName, family="X", colour="red")
    with pytest.raises(ValueError, match='"PatientName.patient" must be a "Patient"'):
        sqlrows.new(PatientName, patient=facility)


def test_insert_shortcuts_write_what_the_fields_prepare(encounter):
    """The INSERT's shortcuts (kernel.sqlrows._shortcut) give each value exactly what
    the field's pre_save and get_db_prep_save give, on this database: UUIDs, foreign
    keys, integers, floats, dates and aware datetimes of the HL7 path's rows, and a
    TextChoices member or a naive datetime, which go the long way."""
    from datetime import datetime, timedelta, timezone

    from django.db import connection

    from recordroom.interop.models import InterfaceMessage, MessageStatus
    from recordroom.mpi.linkage.models import MatchDecision
    from recordroom.mpi.models import PatientIdentifier

    patient, facility = encounter.patient, encounter.facility
    aware = datetime(2026, 3, 1, 20, 42, 40, 123456, tzinfo=timezone(timedelta(hours=-5)))
    rows = [
        sqlrows.new(Encounter, patient=patient, facility=facility, account_number="V9",
                    encounter_class="IMP", admit_at=aware,
                    discharge_at=datetime(2026, 3, 2, 8, 0)),  # naive: long way
        sqlrows.new(PatientName, patient=patient, family="Oyelaran",
                    use=NameUse.MAIDEN, period_start=date(2001, 2, 3)),
        sqlrows.new(PatientIdentifier, patient=patient, facility=facility, kind="MR",
                    system="urn:x", value="M1", lookup="M1", secret=b"\x00\x01"),
        sqlrows.new(InterfaceMessage, raw_sha256="ab" * 32, raw_size=123456,
                    raw=b"sealed", status=MessageStatus.PROCESSED, patient=patient),
        sqlrows.new(MatchDecision, decided_at=aware, decided_by="hl7", source="hl7",
                    facility=facility, outcome="linked", patient=patient,
                    candidate_id=patient.pk, probability=0.9987, match_weight=14.5,
                    evidence=[], candidates=[], thresholds={}),
    ]  # fmt: skip
    checked = 0
    with pytest.warns(RuntimeWarning, match="naive datetime"):  # as save() warns
        for obj in rows:
            fields, _, _, shortcuts = sqlrows._insert_plan(connection, type(obj), 1)
            got = sqlrows.row_values(obj, fields, shortcuts, connection)
            for f, short, value in zip(fields, shortcuts, got, strict=True):
                if short is None or getattr(f, "auto_now_add", False):
                    continue
                long_way = f.get_db_prep_save(f.pre_save(obj, True), connection)
                assert value == long_way, (type(obj).__name__, f.name)
                checked += 1
        sqlrows.insert(rows)
    assert checked >= 15
    stored = Encounter.objects.get(pk=rows[0].pk)
    assert stored.admit_at == aware and stored.patient_id == patient.pk
    assert MatchDecision.objects.get(pk=rows[4].pk).probability == 0.9987
    assert PatientName.objects.get(pk=rows[1].pk).period_start == date(2001, 2, 3)


def test_insert_takes_related_keys_and_refuses_unsaved_ones_as_save_does(db):
    """As save(): a related object not saved yet is refused; once saved, its key is
    taken by the row that was built before it had one."""
    patient = Patient(sex="female")
    key, patient.id = patient.id, None
    name = sqlrows.new(PatientName, patient=patient, family="Amadi")
    assert name.patient_id is None
    with pytest.raises(ValueError, match="unsaved related object 'patient'"):
        sqlrows.insert([name])
    patient.id = key
    sqlrows.insert([patient])
    sqlrows.insert([name])
    assert PatientName.objects.get(pk=name.pk).patient_id == key


def test_every_shortcut_of_every_model_writes_what_its_field_prepares(db):
    """For each concrete field of every model of the project that takes a shortcut,
    a value of the shortcut's type is written as the field itself prepares it, on
    this database (keys, foreign keys to integer and UUID keys, integer kinds ...)."""
    from datetime import datetime, timedelta, timezone

    from django.apps import apps
    from django.db import connection

    samples = {int: 7, float: 2.5, str: "Okafor", bool: True, UUID: UUID(int=99),
               date: date(2026, 3, 1),
               datetime: datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=2)))}  # fmt: skip
    checked = set()
    for model in apps.get_models():
        if not model.__module__.startswith("recordroom."):
            continue
        for f in model._meta.local_concrete_fields:
            short = sqlrows._shortcut(f, connection)
            if short is None:
                continue
            kind, adapt = short
            value = samples[kind]
            fast = value if adapt is None else adapt(value)
            assert fast == f.get_db_prep_save(value, connection), (model, f.name)
            checked.add(type(f).__name__)
    assert {"ForeignKey", "BigAutoField", "UUIDField", "DateTimeField"} <= checked
