"""Duplicates are keyed on sending application, facility and control id, and are
answered "not applied again" only when the content is the same (MSH-7 and MSH-10 set
aside); another message under a used control id is applied, never dropped."""

from __future__ import annotations

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.duplicates import content_digest
from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.mpi.models import Patient
from recordroom.records.models import Encounter

from .messages import adt, pv1


def _rows(control: str) -> list[InterfaceMessage]:
    return list(InterfaceMessage.objects.filter(control_id=control).order_by("id"))


def test_a_second_interface_at_the_facility_with_the_same_control_id_is_applied(
    facility,
):
    assert handle(adt("A04", "1001", mrn="M1001", name="DOE^JANE")).code == "AA"
    other = adt("A04", "1001", mrn="M2002", name="ROE^RICHARD", sex="M")
    other = other.replace(b"|REGAPP|NORTH|", b"|EDAPP|NORTH|")  # MSH-3 differs
    ack = handle(other)
    assert ack.code == "AA" and ack.text == ""
    assert Patient.objects.filter(names__family="ROE").count() == 1
    rows = _rows("1001")
    assert [(r.sending_app, r.status) for r in rows] == [
        ("REGAPP", MessageStatus.PROCESSED),
        ("EDAPP", MessageStatus.PROCESSED),
    ]
    assert rows[0].warnings == rows[1].warnings == ""


def test_a_restarted_counter_with_different_content_is_applied_with_a_warning(
    facility,
):
    first = handle(adt("A04", "1", mrn="M1001", name="DOE^JANE", visit=pv1()))
    assert first.code == "AA"
    # the engine restarted its counter: control id 1 again, another patient
    ack = handle(adt("A04", "1", mrn="M3003", name="POE^EDGAR", sex="M"))
    assert ack.code == "AA"
    assert "control id 1 was used by a different message from REGAPP/NORTH" in (
        ack.text
    )
    assert "not a resend, so treated as a new message" in ack.text
    edgar = Patient.objects.get(names__family="POE")
    rows = _rows("1")
    assert [r.status for r in rows] == [MessageStatus.PROCESSED] * 2
    assert rows[1].patient == edgar and rows[1].pk != rows[0].pk
    assert "used by a different message" in rows[1].warnings
    assert rows[0].content_sha256 != rows[1].content_sha256
    audit = AuditEvent.objects.get(action="interface.message", object_id=rows[1].pk)
    assert "used by a different message" in audit.detail
    # a different message type reusing the id is applied too (A08 of Jane)
    update = handle(adt("A08", "1", mrn="M1001", name="DOE^JANET"))
    assert update.code == "AA" and "treated as a new message" in update.text
    assert Patient.objects.filter(names__given="JANET").exists()


def test_an_identical_resend_is_a_duplicate_and_not_applied_twice(facility):
    raw = adt("A01", "77", visit=pv1())
    assert handle(raw).code == "AA"
    # resent later by the engine: a new MSH-7 time, CR LF segment ends
    resent = raw.replace(b"|20250102083000||ADT^", b"|20250102093000||ADT^")
    resent = resent.replace(b"\r", b"\r\n")
    ack = handle(resent)
    assert ack.code == "AA"
    assert ack.text.startswith("duplicate of message 77 received ")
    assert ack.text.endswith("; not applied again")
    rows = _rows("77")
    assert [r.status for r in rows] == [
        MessageStatus.PROCESSED,
        MessageStatus.DUPLICATE,
    ]
    assert rows[1].patient_id == rows[0].patient_id
    assert Patient.objects.count() == 1 and Encounter.objects.count() == 1
    assert AuditEvent.objects.filter(action="encounter.create").count() == 1
    assert AuditEvent.objects.filter(action="interface.message").count() == 1


def test_the_content_digest_sets_aside_msh_7_and_msh_10_only():
    raw = adt("A04", "9").decode()
    assert content_digest(raw) == content_digest(
        raw.replace("|9|P|", "|10|P|").replace("20250102083000||", "20250103||")
    )
    assert content_digest(raw) != content_digest(raw.replace("DOE^JANE", "DOE^JAN"))
    assert content_digest(raw) != content_digest(raw.replace("|REGAPP|", "|ED|"))


def test_a_message_received_before_digests_were_kept_is_still_recognised(facility):
    raw = adt("A04", "5")
    assert handle(raw).code == "AA"
    InterfaceMessage.objects.update(content_sha256="")  # as migrated rows are
    again = handle(raw)
    assert again.code == "AA" and "duplicate" in again.text
    assert Patient.objects.count() == 1
