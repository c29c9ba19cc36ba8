"""Inbound merges under the merge rules (R-INT-5, issue 12): an ADT^A40 joining two
strangers (other names, birth dates 21 years apart) or twins is held for review --
AE naming why by default, AA pending review by setting -- with an overlay sign; a
repeat holds nothing new; a specialist approves (the merge runs) or rejects it."""

from __future__ import annotations

import json

import pytest
from hl7.client import MLLPClient

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage
from recordroom.kernel.errors import PermissionDenied
from recordroom.mpi.held_merges import approve_held_merge, reject_held_merge
from recordroom.mpi.models import HeldMerge, OverlayFlag, Patient
from tests import factories

from .messages import adt, err
from .test_mllp import BIN, _msa, _run, listener  # noqa: F401

STRANGERS = ("birth dates 1980-01-31 and 1959-03-14, and no name of one record is "
             "like a name of the other: two people, or an overlay in the making")  # fmt: skip


@pytest.fixture
def strangers(facility):
    """Jane Doe (M1001, born 1980) and Walter Price (M0002, born 1959, no SSN)."""
    assert handle(adt("A04", "S1")).code == "AA"
    other = adt("A04", "S2", mrn="M0002", name="PRICE^WALTER", dob="19590314", sex="M",
                ssn="")  # fmt: skip
    assert handle(other).code == "AA"
    return Patient.objects.get(identifiers__value="M1001")


def _a40(control: str, prior: str = "M0002") -> bytes:
    return adt("A40", control) + f"MRG|{prior}^^^NORTH^MR\r".encode()


def test_a40_of_two_strangers_is_held_ae_with_the_reason_and_an_overlay_sign(strangers):
    ack = handle(_a40("S3"))
    assert ack.code == "AE" and ack.location == "MRG-1", ack.text
    assert (
        ack.text
        == f"not merged: merge of M0002 into M1001 held for review: {STRANGERS}"
    )
    assert err(ack)[2:4] == ["MRG^1^1", "207^Application internal error^HL70357"]
    assert not Patient.objects.filter(merged_into__isnull=False).exists()
    held = HeldMerge.objects.get()
    assert (held.survivor, held.status, held.reasons) == (
        strangers,
        "pending",
        [STRANGERS],
    )
    assert (held.sender, held.control_id) == ("REGAPP/NORTH", "S3")
    flag = OverlayFlag.objects.get(kind="held-merge")
    assert flag.patient == strangers and flag.status == "open"
    assert flag.summary.startswith(
        "Inbound merge held for review: HL7 S3 from REGAPP/NORTH"
    )
    assert AuditEvent.objects.filter(action="mpi.merge_hold").count() == 2
    row = InterfaceMessage.objects.get(control_id="S3")
    assert (row.status, row.ack_code) == ("error", "AE")
    assert row.error.startswith("MRG-1: not merged: merge of M0002 into M1001 held")

    again = handle(_a40("S4"))  # the sender tries again
    assert again.code == "AE" and "(already held)" in again.text
    assert HeldMerge.objects.count() == 1 and OverlayFlag.objects.count() == 1
    assert AuditEvent.objects.filter(action="mpi.merge_hold").count() == 2


def test_with_the_aa_setting_the_held_merge_is_accepted_pending_review(
    strangers, settings
):
    settings.HL7_MERGE_HOLD_ACK = "AA"
    ack = handle(_a40("S3"))
    assert ack.code == "AA"
    assert ack.text == f"merge of M0002 into M1001 held for review: {STRANGERS}"
    assert InterfaceMessage.objects.get(control_id="S3").status == "processed"
    assert HeldMerge.objects.get().status == "pending"
    assert not Patient.objects.filter(merged_into__isnull=False).exists()


def test_an_a40_the_twin_rule_refuses_is_held(facility):
    assert handle(adt("A04", "T1", name="DOE^MARY", ssn="")).code == "AA"
    assert handle(adt("A04", "T2", mrn="M0002", name="DOE^MARK", ssn="")).code == "AA"
    ack = handle(_a40("T3"))
    assert ack.code == "AE" and "twins are two people" in ack.text
    assert HeldMerge.objects.get().reasons == [
        "same birth date and surname, different first names (MARY and MARK): twins "
        "are two people"
    ]


def test_a_clean_a40_with_a_typo_and_a_nickname_still_merges(facility):
    assert handle(adt("A04", "C1", name="DOE^MICHAEL", dob="19800131")).code == "AA"
    typo = adt("A04", "C2", mrn="M0002", name="DOW^MIKE", dob="19800113", ssn="")
    assert handle(typo).code == "AA"
    ack = handle(_a40("C3"))
    assert ack.code == "AA", ack.text
    assert Patient.objects.filter(merged_into__isnull=False).count() == 1
    assert not HeldMerge.objects.exists() and not OverlayFlag.objects.exists()


def test_a_specialist_approves_a_held_merge_it_runs_audited(strangers, facility):
    handle(_a40("S3"))
    held = HeldMerge.objects.get()
    spec = factories.actor(
        factories.user("spec2", "him_specialist", facilities=[facility])
    )
    merge = approve_held_merge(
        actor=spec, held=held, reason="called the sender: one man"
    )
    assert Patient.objects.get(identifiers__value="M0002") == strangers
    held.refresh_from_db()
    assert (held.status, held.decided_by, held.merge) == ("merged", "spec2", merge)
    assert merge.source == "hl7" and "approved: called the sender" in merge.reason
    assert OverlayFlag.objects.get().status == "dismissed"
    event = AuditEvent.objects.filter(action="mpi.merge_hold_decide").first()
    assert json.loads(event.detail)["decision"] == "merged"
    # the sender's resend now finds the prior MRN on the survivor: nothing to do
    assert handle(_a40("S5")).code == "AA"


def test_a_held_merge_is_rejected_and_its_sign_closed(strangers, facility):
    handle(_a40("S3"))
    spec = factories.actor(
        factories.user("spec3", "him_specialist", facilities=[facility])
    )
    reject_held_merge(actor=spec, held=HeldMerge.objects.get(), note="two people")
    assert HeldMerge.objects.get().status == "rejected"
    assert OverlayFlag.objects.get().status == "dismissed"
    assert not Patient.objects.filter(merged_into__isnull=False).exists()
    # asked again, it is held again (a new review)
    assert handle(_a40("S6")).code == "AE"
    assert HeldMerge.objects.filter(status="pending").count() == 1


def test_a_held_twin_merge_needs_a_managers_override(facility):
    handle(adt("A04", "T1", name="DOE^MARY", ssn=""))
    handle(adt("A04", "T2", mrn="M0002", name="DOE^MARK", ssn=""))
    handle(_a40("T3"))
    held = HeldMerge.objects.get()
    spec = factories.actor(
        factories.user("spec4", "him_specialist", facilities=[facility])
    )
    with pytest.raises(PermissionDenied, match="only an HIM manager may override"):
        approve_held_merge(actor=spec, held=held, reason="one", override="sure")
    boss = factories.actor(factories.user("boss", "him_manager", facilities=[facility]))
    merge = approve_held_merge(actor=boss, held=held, reason="one person",
                               override="birth certificate: one girl, Mary")  # fmt: skip
    assert merge.override_reason == "birth certificate: one girl, Mary"
    assert HeldMerge.objects.get().status == "merged"


def test_over_mllp_strangers_are_held_once_and_a_clean_a40_merges(listener):  # noqa: F811
    """The running listener, fed with python-hl7's MLLP client."""
    data, port = listener
    make = (
        "import django; django.setup();"
        "from recordroom.mpi.models import Facility as F;"
        "F.objects.get_or_create(code='NORTH', defaults=dict(name='North', "
        "mrn_system='urn:test:north'))"
    )
    assert _run([BIN / "python", "-c", make], data).returncode == 0
    walter = adt("A04", "M2", mrn="M0002", name="PRICE^WALTER", dob="19590314",
                 sex="M", ssn="")  # fmt: skip
    jane_again = adt("A04", "M5", mrn="M0003", name="DOE^JAN", ssn="123-45-6789",
                     address="4 Oak Rd^^Peoria^IL^61602^USA", phone="")  # fmt: skip
    with MLLPClient("127.0.0.1", port) as client:
        assert _msa(client.send_message(adt("A04", "M1")))[1] == "AA"
        assert _msa(client.send_message(walter))[1] == "AA"
        held = _msa(client.send_message(_a40("M3")))
        assert held[1:3] == ["AE", "M3"] and STRANGERS in held[3], held
        again = _msa(client.send_message(_a40("M4")))
        assert again[1] == "AE" and "(already held)" in again[3], again
        assert _msa(client.send_message(jane_again))[1] == "AA"
        clean = _msa(client.send_message(_a40("M6", prior="M0003")))
        assert clean[1:3] == ["AA", "M6"], clean
    check = (
        "import django; django.setup();"
        "from recordroom.mpi.models import HeldMerge as H, OverlayFlag as F, Patient as P;"
        "print(H.objects.filter(status='pending').count(),"
        " F.objects.filter(kind='held-merge', status='open').count(),"
        " P.objects.filter(merged_into__isnull=False).count())"
    )
    out = _run([BIN / "python", "-c", check], data)
    assert out.stdout.strip() == "1 1 1", out.stdout + out.stderr
