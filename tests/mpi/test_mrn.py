"""MRN assignment: a facility's own sequence (zero padded, prefix, check digit) at
registration through the API, the page's service and ADT; typed MRNs only where a
facility's numbers come from another system; never one number twice."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.kernel.actor import SYSTEM
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi import mrn
from recordroom.mpi.linkage import registration
from recordroom.mpi.models import Facility, PatientIdentifier
from recordroom.mpi.services import NameIn, PatientIn
from tests import factories
from tests.api.conftest import api_for
from tests.interop.hl7v2.test_mllp import BIN
from tests.interop.hl7v2.test_services import ack_fields, adt


def assigning(facility: Facility, **changes) -> Facility:
    settings = {"mrn_source": "here", "mrn_next": 1, "mrn_width": 6, **changes}
    return mrn.set_mrn_settings(actor=SYSTEM, facility=facility, changes=settings)


def person(facility: Facility, family="Okafor", given="Ngozi", value="") -> PatientIn:
    return PatientIn(names=[NameIn(family=family, given=given)],
                     identifiers=[mrn.to_assign(facility)] if not value else
                     [mrn.IdentifierIn(kind="MR", value=value, facility=facility)])  # fmt: skip


def mrns(facility: Facility) -> list[str]:
    return sorted(
        PatientIdentifier.objects.filter(kind="MR", facility=facility).values_list(
            "value", flat=True
        )
    )


def test_check_digits_are_the_published_ones():
    # Luhn: the worked example of ISO/IEC 7812-1 Annex B ("7992739871" -> 3)
    assert mrn.luhn_digit("7992739871") == "3"
    # mod 11 as the NHS number: 943 476 591 -> check digit 9 (NHS Data Dictionary)
    assert mrn.mod11_digit("943476591") == "9"
    assert mrn.mod11_digit("000000006") is None  # remainder 1 -> 10: never issued


def test_registration_assigns_zero_padded_mrns_with_prefix_and_check_digit(facility):
    assigning(facility, mrn_prefix="N", mrn_check_digit="luhn", mrn_next=41)
    first = registration.register(actor=SYSTEM, data=person(facility), source="api")
    second = registration.register(
        actor=SYSTEM, data=person(facility, "Adeyemi", "Tunde"), source="api"
    )
    assert first.assigned_mrn == "N000041" + mrn.luhn_digit("000041")
    assert second.assigned_mrn == "N000042" + mrn.luhn_digit("000042")
    assert mrns(facility) == sorted([first.assigned_mrn, second.assigned_mrn])
    facility.refresh_from_db()
    assert facility.mrn_next == 43
    events = AuditEvent.objects.filter(action="mpi.registration_match")
    assert [json.loads(e.detail)["mrn_assigned"] for e in events.order_by("pk")] == [
        first.assigned_mrn, second.assigned_mrn]  # fmt: skip


def test_a_number_already_held_is_skipped(facility):
    assigning(facility)
    factories.patient(facility=facility, mrn="000001", family="Loaded")
    done = registration.register(actor=SYSTEM, data=person(facility), source="api")
    assert done.assigned_mrn == "000002"


def test_a_registration_linked_to_a_record_with_an_mrn_here_gets_none(facility):
    assigning(facility)
    first = registration.register(actor=SYSTEM, data=person(facility), source="ui")
    again = registration.register(
        actor=SYSTEM, data=person(facility), source="ui", link_to=first.patient.pk,
        reason="same person, came back",
    )  # fmt: skip
    assert again.patient == first.patient and again.assigned_mrn == ""
    assert mrns(facility) == ["000001"]


def test_an_external_facility_requires_the_typed_mrn_and_checks_its_digit(facility):
    mrn.set_mrn_settings(actor=SYSTEM, facility=facility,
                         changes={"mrn_check_digit": "mod11"})  # fmt: skip
    with pytest.raises(ValidationFailed, match="an MRN is required: NORTH"):
        registration.register(actor=SYSTEM, data=person(facility), source="api")
    with pytest.raises(ValidationFailed, match="fails its Mod 11"):
        registration.register(
            actor=SYSTEM, data=person(facility, value="9434765918"), source="api"
        )
    done = registration.register(
        actor=SYSTEM, data=person(facility, value="9434765919"), source="api"
    )
    assert done.assigned_mrn == "" and mrns(facility) == ["9434765919"]


def test_settings_are_validated_and_audited(facility):
    with pytest.raises(ValidationFailed, match="width 30 is not between 1 and 18"):
        mrn.set_mrn_settings(actor=SYSTEM, facility=facility,
                             changes={"mrn_width": 30})  # fmt: skip
    with pytest.raises(ValidationFailed, match="'base36' is not one of none, luhn"):
        mrn.set_mrn_settings(actor=SYSTEM, facility=facility,
                             changes={"mrn_check_digit": "base36"})  # fmt: skip
    assigning(facility, mrn_prefix="n1")
    event = json.loads(AuditEvent.objects.get(action="facility.mrn_settings").detail)
    assert event["before"]["mrn_source"] == "external"
    assert event["after"]["mrn_prefix"] == "N1"
    assert mrn.describe(facility)["next_value"] == "N1000001"


def test_the_sequence_runs_out_with_a_clear_error(facility):
    assigning(facility, mrn_width=2, mrn_next=99)
    registration.register(actor=SYSTEM, data=person(facility), source="api")
    with pytest.raises(ValidationFailed, match="past 2 digits"):
        registration.register(
            actor=SYSTEM, data=person(facility, "Brown", "Tom"), source="api"
        )


def test_api_registers_at_an_assigning_facility_without_an_mrn(facility):
    assigning(facility)
    api = api_for(factories.user("reg-mrn", "him_specialist", facilities=[facility]))
    body = {"names": [{"family": "Varga", "given": "Ilona"}], "facility": "NORTH",
            "birth_date": "1990-02-03"}  # fmt: skip
    resp = api.post("/patients", body)
    assert resp.status_code == 201, resp.content
    assert resp.json()["mrn_assigned"] == "000001"
    assert mrns(facility) == ["000001"]


def test_adt_without_an_mr_is_assigned_one_and_the_ack_says_which(facility):
    assigning(facility, mrn_prefix="N")
    msg = adt(mrn="", control="NOMRN1").replace(b"PID|1||^^^NORTH^MR|", b"PID|1|||")
    ack = handle(msg)
    assert ack.code == "AA", ack.text
    assert "assigned MRN N000001" in ack_fields(ack)["MSA"][3]
    assert mrns(facility) == ["N000001"]


def test_adt_without_an_mr_is_refused_where_mrns_are_external(facility):
    msg = adt(mrn="", control="NOMRN2").replace(b"PID|1||^^^NORTH^MR|", b"PID|1|||")
    ack = handle(msg)
    assert ack.code == "AE" and "PID-3" in ack.text
    assert mrns(facility) == []


_REGISTER = """
import sys, django
django.setup()
from recordroom.kernel.actor import SYSTEM
from recordroom.mpi import mrn
from recordroom.mpi.linkage import registration
from recordroom.mpi.models import Facility
from recordroom.mpi.services import NameIn, PatientIn
east = Facility.objects.get(code="EAST")
for n in range(int(sys.argv[2])):
    data = PatientIn(names=[NameIn(family=f"Proc{sys.argv[1]}x{n}", given="Q")],
                     identifiers=[mrn.to_assign(east)])
    print(registration.register(actor=SYSTEM, data=data, source="api").assigned_mrn)
"""


def test_registrations_at_once_never_get_one_number(tmp_path):
    """Four processes registering at once, each on its own connection to a real
    database of their own (a SQLite file, or a PostgreSQL database in that pass):
    every number once, none lost but those mod 11 cannot carry."""
    env = own_database(tmp_path)

    def run(*args: str) -> subprocess.Popen:
        return subprocess.Popen([str(BIN / "python"), *args], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    setup = run("-c", "import django; django.setup();"
                "from recordroom.kernel.actor import SYSTEM;"
                "from recordroom.mpi import mrn; from recordroom.mpi.models import "
                "Facility as F; f = F.objects.create(code='EAST', name='East', "
                "mrn_system='urn:test:east'); mrn.set_mrn_settings(actor=SYSTEM, "
                "facility=f, changes={'mrn_source': 'here', 'mrn_width': 6, "
                "'mrn_check_digit': 'mod11'})")  # fmt: skip
    assert setup.wait(120) == 0, setup.communicate()
    procs = [run("-c", _REGISTER, str(n), "6") for n in range(4)]
    got: list[str] = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        got += out.split()
    assert len(got) == 24 and len(set(got)) == 24
    east = Facility(mrn_width=6, mrn_check_digit="mod11")
    issued = [v for v in (mrn.format_mrn(east, n) for n in range(1, 40)) if v]
    assert sorted(got) == issued[:24]


def own_database(tmp_path) -> dict[str, str]:
    """An initialised data folder (and on PostgreSQL a database) of the test's own."""
    env = {**os.environ, "RECORDROOM_DATA_DIR": str(tmp_path / "data"),
           "DJANGO_SETTINGS_MODULE": "recordroom.settings"}  # fmt: skip
    url = os.environ.get("RECORDROOM_DATABASE_URL", "")
    if url:
        import psycopg

        admin = url.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0]
        name = url.rsplit("/", 1)[1] + "_mrn_race"
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["RECORDROOM_DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    done = subprocess.run([str(BIN / "recordroom"), "init"], env=env, text=True,
                          capture_output=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return env
