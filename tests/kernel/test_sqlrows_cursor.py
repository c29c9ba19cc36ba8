"""sqlrows.cursor(): the hot paths' cursor behaves as Django's does -- same rows, same
errors, a broken transaction refused, every statement seen when queries are watched --
and plain text and flags are written as their fields would write them."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from recordroom.kernel import sqlrows
from recordroom.mpi.models import Facility, NameUse, Patient, PatientName


def test_the_cursor_reads_writes_and_translates_errors_as_djangos(db):
    Facility.objects.create(code="CURS", name="Cursor General", mrn_system="urn:c")
    sql = "SELECT code, name FROM mpi_facility WHERE code = %s AND name LIKE %s"
    with sqlrows.cursor(connection) as cur:
        cur.execute(sql, ["CURS", "Cursor%%"])
        mine = cur.fetchall()
    with connection.cursor() as cur:
        cur.execute(sql, ["CURS", "Cursor%%"])
        theirs = cur.fetchall()
    assert [tuple(r) for r in mine] == [tuple(r) for r in theirs]
    assert [tuple(r) for r in mine] == [("CURS", "Cursor General")]
    with sqlrows.cursor(connection) as cur:
        cur.execute("UPDATE mpi_facility SET name = %s WHERE code = %s", ["C", "CURS"])
        assert cur.rowcount == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # Django's class
        with sqlrows.cursor(connection) as cur:
            cur.execute(
                "INSERT INTO mpi_facility (id, code, name, mrn_system, timezone, npi) "
                "SELECT id, code, name, mrn_system, timezone, npi FROM mpi_facility "
                "WHERE code = %s",
                ["CURS"],
            )


def test_a_broken_transaction_is_refused_and_watched_queries_are_seen(db):
    with transaction.atomic():
        transaction.set_rollback(True)  # as after an error caught inside atomic()
        with pytest.raises(TransactionManagementError):
            with sqlrows.cursor(connection) as cur:
                cur.execute("SELECT 1", [])
    with CaptureQueriesContext(connection) as seen:
        with sqlrows.cursor(connection) as cur:
            cur.execute("SELECT code FROM mpi_facility WHERE code = %s", ["NONE"])
            assert cur.fetchall() == []
    assert len(seen.captured_queries) == 1
    assert "'NONE'" in seen.captured_queries[0]["sql"]


def test_insert_writes_text_choices_and_flags_as_the_orm_does(db):
    patient = Patient(birth_date=date(1980, 2, 3), sex="F", is_vip=True)
    sqlrows.insert([patient])
    name = PatientName(
        patient=patient, use=NameUse.LEGAL, family="O'Hara", given="Siobhán"
    )
    sqlrows.insert([name])
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.is_vip, stored.is_employee, stored.sex) == (True, False, "F")
    row = PatientName.objects.get(pk=name.pk)
    assert (row.use, row.family, row.given) == ("legal", "O'Hara", "Siobhán")


def test_each_thread_keeps_its_own_database_connection(db):
    from django.db import connections

    here = sqlrows._wrapper("default")
    assert here is connections["default"] and sqlrows._wrapper("default") is here
    seen: list[tuple[object, object]] = []
    other = threading.Thread(
        target=lambda: seen.append(
            (sqlrows._wrapper("default"), connections["default"])
        )
    )
    other.start()
    other.join()
    assert seen[0][0] is seen[0][1] and seen[0][0] is not here
