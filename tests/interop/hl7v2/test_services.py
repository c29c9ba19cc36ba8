"""HL7 v2 ADT handling at the service level: register, update, duplicates, errors."""

from __future__ import annotations

import hashlib

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import RAW_INLINE_MAX, InterfaceMessage, MessageStatus
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import IntegrityFailure
from recordroom.mpi.models import NameUse, Patient
from recordroom.records.models import Encounter
from tests import factories


def adt(
    event="A04",
    control="C1",
    mrn="M1001",
    name="DOE^JANE^Q",
    dob="19800131",
    sex="F",
    facility="NORTH",
    pv1="PV1|1|O|CLINIC^1||||||||||||||||V5001|||||||||||||||||||||||||20250102083000",
):
    segs = [
        f"MSH|^~\\&|REGAPP|{facility}|RR|RR|20250102083000||ADT^{event}^ADT_A01|"
        f"{control}|P|2.5.1",
        f"EVN|{event}|20250102083000",
        f"PID|1||{mrn}^^^{facility}^MR||{name}||{dob}|{sex}|||1 Main St^^Springfield^"
        f"IL^62701^USA||^PRN^PH^^^217^5550100||||||123-45-6789",
    ]
    if pv1:
        segs.append(pv1)
    return ("\r".join(segs) + "\r").encode()


def ack_fields(ack):
    text = ack.encode().decode()
    return {seg.split("|")[0]: seg.split("|") for seg in text.split("\r") if seg}


def test_a04_registers_patient_and_visit(facility):
    ack = handle(adt())
    assert ack.code == "AA", ack.text
    segs = ack_fields(ack)
    assert segs["MSA"][1:3] == ["AA", "C1"]
    assert segs["MSH"][2] == "RR" and segs["MSH"][4] == "REGAPP"
    assert "ERR" not in segs
    patient = Patient.objects.get()
    assert patient.sex == "female" and str(patient.birth_date) == "1980-01-31"
    assert patient.identifiers.filter(kind="MR", value="M1001").exists()
    assert patient.identifiers.filter(kind="SS", last4="6789").exists()
    assert patient.addresses.get().city == "Springfield"
    enc = Encounter.objects.get()
    assert enc.account_number == "V5001" and enc.encounter_class == "AMB"
    msg = InterfaceMessage.objects.get()
    assert msg.status == MessageStatus.PROCESSED and msg.patient == patient
    assert msg.message_type == "ADT^A04" and msg.sending_facility == "NORTH"
    events = AuditEvent.objects.filter(channel="hl7")
    assert {e.action for e in events} >= {
        "patient.create",
        "encounter.create",
        "interface.message",
    }
    assert all(e.username == "hl7:REGAPP" for e in events)


def test_a08_updates_and_keeps_old_name(facility):
    assert handle(adt()).code == "AA"
    ack = handle(adt("A08", "C2", name="SMITH^JANE^Q", sex="F", dob="19800201"))
    assert ack.code == "AA", ack.text
    patient = Patient.objects.get()
    assert str(patient.birth_date) == "1980-02-01"
    legal = patient.names.get(use=NameUse.LEGAL, period_end__isnull=True)
    assert legal.family == "SMITH"
    assert patient.names.filter(use=NameUse.PREVIOUS, family="DOE").exists()
    assert Encounter.objects.count() == 1


def test_duplicate_control_id_is_not_applied_again(facility):
    assert handle(adt()).code == "AA"
    ack = handle(adt())  # the same message again (tests/.../test_duplicates.py)
    assert ack.code == "AA" and "duplicate" in ack.text
    assert InterfaceMessage.objects.filter(status=MessageStatus.DUPLICATE).count() == 1
    assert Patient.objects.count() == 1 and Encounter.objects.count() == 1


def test_malformed_message_is_rejected(facility):
    for raw in (b"hello world", b"MSH|^~\\&|\xff\xfe|bad"):
        ack = handle(raw)
        assert ack.code == "AR"
        assert "ERR" in ack_fields(ack)
    assert InterfaceMessage.objects.filter(status=MessageStatus.REJECTED).count() == 2


def test_unsupported_type_is_rejected(facility):
    raw = adt().replace(b"ADT^A04^ADT_A01", b"SIU^S12^SIU_S12")
    ack = handle(raw)
    assert ack.code == "AR" and ack.location == "MSH-9.1"


def test_missing_pid3_is_an_error_naming_it(facility):
    ack = handle(adt(mrn=""))
    assert ack.code == "AE"
    err = ack_fields(ack)["ERR"]
    assert err[2] == "PID^1^3"
    assert Patient.objects.count() == 0
    msg = InterfaceMessage.objects.get()
    assert msg.status == MessageStatus.ERROR and "PID-3" in msg.error


def test_bad_date_writes_nothing(facility):
    ack = handle(adt(dob="19801399"))
    assert ack.code == "AE" and ack.location == "PID-7"
    assert Patient.objects.count() == 0 and Encounter.objects.count() == 0
    assert not AuditEvent.objects.filter(action="patient.create").exists()


def test_bad_patient_class_rolls_back_the_registration(facility):
    bad = "PV1|1|Z" + "|" * 17 + "V9"
    ack = handle(adt(pv1=bad))
    assert ack.code == "AE" and ack.location == "PV1-2"
    assert Patient.objects.count() == 0


def test_unknown_facility_is_an_error_naming_msh4(db):
    factories.facility("NORTH")
    ack = handle(adt(facility="NOWHERE"))
    assert ack.code == "AE" and ack.location == "MSH-4"
    assert "NOWHERE" in ack.text


def test_raw_message_is_stored_encrypted_in_its_row(facility):
    """Kept in the row, committed with what the message changed (no blob file)."""
    raw = adt()
    handle(raw)
    msg = InterfaceMessage.objects.get()
    assert msg.raw_bytes() == raw and msg.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert b"DOE" not in bytes(msg.raw)
    assert not default_store().exists(msg.raw_sha256)
    row = InterfaceMessage.objects.filter(pk=msg.pk).values()[0]
    assert not any("DOE" in str(v) for v in row.values())


def test_reprocess_applies_a_message_after_its_cause_is_fixed(db):
    from recordroom.interop.hl7v2.services import reprocess

    factories.facility("NORTH")
    ack = handle(adt(facility="WEST"))
    assert ack.code == "AE"
    factories.facility("WEST")
    again = reprocess(ack.message.pk)
    assert again.code == "AA", again.text
    msg = InterfaceMessage.objects.get()
    assert msg.status == MessageStatus.PROCESSED and msg.patient is not None
    assert msg.error == ""


def test_cli_reprocess_refuses_a_processed_message(facility):
    from typer.testing import CliRunner

    from recordroom.cli.hl7 import hl7_app

    ack = handle(adt())
    result = CliRunner().invoke(hl7_app, ["reprocess", str(ack.message.pk)])
    assert result.exit_code == 1 and "processed" in result.output


def test_name_repetitions_attending_and_a28(facility):
    provider = factories.provider()
    pv1 = ["PV1", "1", "I"] + [""] * 42
    pv1[7], pv1[19], pv1[44] = provider.npi, "V7001", "20250103101500-0500"
    raw = adt("A01", name="ROE^ANN^^^^^A~ROE^ANNA^B^^^^L", pv1="|".join(pv1))
    ack = handle(raw)
    assert ack.code == "AA", ack.text
    patient = Patient.objects.get()
    legal = patient.names.get(use=NameUse.LEGAL)
    assert (legal.given, legal.middle) == ("ANNA", "B")
    assert patient.names.filter(use=NameUse.ALIAS, given="ANN").exists()
    enc = Encounter.objects.get()
    assert enc.encounter_class == "IMP" and enc.attending == provider
    assert enc.admit_at.isoformat().startswith("2025-01-03T15:15")
    assert handle(adt("A28", "C9", mrn="M2002", pv1="")).code == "AA"
    assert Patient.objects.count() == 2


def test_pid3_assigning_authority_names_the_facility(facility, other_facility):
    raw = adt().replace(b"M1001^^^NORTH^MR", b"M1001^^^SOUTH^MR")
    assert handle(raw).code == "AA"
    ident = Patient.objects.get().identifiers.get(kind="MR")
    assert ident.facility == other_facility


def test_an_altered_raw_message_fails_its_integrity_check(facility):
    handle(adt())
    msg = InterfaceMessage.objects.get()
    token = bytearray(msg.raw)
    token[-1] ^= 1
    InterfaceMessage.objects.filter(pk=msg.pk).update(raw=bytes(token))
    with pytest.raises(IntegrityFailure, match="integrity check"):
        InterfaceMessage.objects.get().raw_bytes()


def test_a_message_past_the_inline_size_goes_to_the_blob_store(facility, settings):
    """A large message (a document) is written to the blob store, fsynced before
    its row commits, and read back the same way."""
    note = "NTE|1||" + "x" * RAW_INLINE_MAX + "\r"
    raw = adt() + note.encode()
    ack = handle(raw)
    assert ack.code == "AA", ack.text
    msg = InterfaceMessage.objects.get()
    assert msg.raw is None and msg.raw_size == len(raw)
    assert default_store().get(msg.raw_sha256) == raw == msg.raw_bytes()
