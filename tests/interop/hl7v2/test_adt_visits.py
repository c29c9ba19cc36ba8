"""ADT visit events: transfer (A02), discharge (A03), cancel admit (A11), cancel
discharge (A13), visit updates (A08), and contact/SSN updates with history (A08/A31)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.mpi.models import Patient
from recordroom.mpi.services import reveal_ssn
from recordroom.records.models import Encounter
from tests import factories

from .messages import adt, err, pv1


@pytest.fixture
def admitted(facility):
    ack = handle(adt("A01", "C1", visit=pv1()))
    assert ack.code == "AA", ack.text
    return Encounter.objects.get(account_number="V5001")


def test_a02_transfer_moves_the_visit_and_changes_its_class(admitted):
    ack = handle(adt("A02", "C2", visit=pv1("E", location="ED^12^1")))
    assert ack.code == "AA", ack.text
    admitted.refresh_from_db()
    assert (admitted.location, admitted.encounter_class) == ("ED, 12, 1", "EMER")
    event = AuditEvent.objects.filter(action="encounter.update").get()
    detail = json.loads(event.detail)
    assert detail["before"] == {
        "encounter_class": "IMP",
        "patient_class": "I",
        "location": "4E, 401, A",
    }
    assert detail["after"] == {
        "encounter_class": "EMER",
        "patient_class": "E",
        "location": "ED, 12, 1",
    }
    assert event.username == "hl7:REGAPP"


def test_a03_discharge_finishes_the_visit_with_time_and_disposition(admitted):
    visit = pv1(disposition="06", discharge="20250105143000-0500")
    ack = handle(adt("A03", "C2", visit=visit))
    assert ack.code == "AA", ack.text
    admitted.refresh_from_db()
    assert admitted.status == "finished"
    assert admitted.discharge_at.isoformat() == "2025-01-05T19:30:00+00:00"
    assert admitted.discharge_disposition == "06"


def test_a03_unknown_disposition_is_an_error_naming_pv1_36(admitted):
    ack = handle(adt("A03", "C2", visit=pv1(disposition="HOME", discharge="20250105")))
    assert ack.code == "AE" and ack.location == "PV1-36"
    assert "'HOME'" in ack.text and "01 (Home or self care)" in ack.text
    assert err(ack)[2:4] == ["PV1^1^36", "103^Table value not found^HL70357"]
    admitted.refresh_from_db()
    assert admitted.status == "in-progress" and admitted.discharge_at is None


def test_a03_before_the_admission_names_pv1_45(admitted):
    ack = handle(adt("A03", "C2", visit=pv1(discharge="20241231")))
    assert ack.code == "AE" and ack.location == "PV1-45"
    assert "is before admission" in ack.text


def test_a13_cancels_the_discharge_and_a11_the_admission(admitted):
    done = handle(adt("A03", "C2", visit=pv1(disposition="1", discharge="20250105")))
    assert done.code == "AA", done.text
    admitted.refresh_from_db()
    assert admitted.discharge_disposition == "01"
    # a discharged visit is not cancelled: its discharge is cancelled first
    refused = handle(adt("A11", "C3", visit=pv1()))
    assert refused.code == "AE" and "cancel the discharge first" in refused.text
    assert handle(adt("A13", "C4", visit=pv1())).code == "AA"
    admitted.refresh_from_db()
    assert admitted.status == "in-progress"
    assert (admitted.discharge_at, admitted.discharge_disposition) == (None, "")
    assert handle(adt("A11", "C5", visit=pv1())).code == "AA"
    admitted.refresh_from_db()
    assert admitted.status == "cancelled"
    # a cancelled visit was never discharged: no discharge to cancel
    late = handle(adt("A13", "C6", visit=pv1()))
    assert late.code == "AE" and "is cancelled, not discharged" in late.text


def test_an_event_for_an_unknown_visit_is_an_error_naming_pv1_19(admitted):
    for event in ("A02", "A03", "A11", "A13"):
        ack = handle(adt(event, f"X{event}", visit=pv1(visit="V9999")))
        assert ack.code == "AE" and ack.location == "PV1-19", event
        assert "no visit 'V9999' at NORTH" in ack.text
    missing = handle(adt("A11", "C9", visit=pv1(visit="")))
    assert missing.code == "AE" and missing.location == "PV1-19"
    assert InterfaceMessage.objects.filter(status=MessageStatus.ERROR).count() == 5


def test_a_visit_of_another_patient_is_refused_naming_pid_3(admitted):
    handle(adt("A04", "C2", mrn="M2002", name="ROE^RICHARD", visit=None))
    ack = handle(adt("A02", "C3", mrn="M2002", visit=pv1(location="ICU^1")))
    assert ack.code == "AE" and ack.location == "PID-3" and "M2002" in ack.text
    admitted.refresh_from_db()
    assert admitted.location == "4E, 401, A"


def test_a08_updates_the_visit_location_class_and_providers(admitted):
    attending, admitting = factories.provider(), factories.provider("Kelly")
    visit = pv1("O", location="CLINIC^2", attending=attending.npi,
                admitting=f"{admitting.npi}^KELLY^HOWARD")  # fmt: skip
    ack = handle(adt("A08", "C2", visit=visit))
    assert ack.code == "AA", ack.text
    admitted.refresh_from_db()
    assert (admitted.location, admitted.encounter_class) == ("CLINIC, 2", "AMB")
    assert (admitted.attending, admitted.admitting) == (attending, admitting)


def test_a08_changes_address_phone_and_ssn_keeping_history(admitted):
    ack = handle(
        adt("A08", "C2", address="9 Oak Ave^Apt 2^Peoria^IL^61602^USA",
            phone="^PRN^PH^^^309^5550199", ssn="987-65-4321", visit=None)
    )  # fmt: skip
    assert ack.code == "AA", ack.text
    patient = Patient.objects.get()
    ended = patient.addresses.get(period_end__isnull=False)
    current = patient.addresses.get(period_end__isnull=True)
    assert (ended.city, ended.period_end) == ("Springfield", date.today())
    assert (current.line1, current.line2, current.period_start) == (
        "9 Oak Ave",
        "Apt 2",
        date.today(),
    )
    phones = {t.value: t.period_end for t in patient.telecoms.all()}
    assert phones == {"2175550100": date.today(), "3095550199": None}
    ssns = {reveal_ssn(i): i.period_end for i in patient.identifiers.filter(kind="SS")}
    assert ssns == {"123456789": date.today(), "987654321": None}
    assert not patient.identifiers.filter(value__contains="987-65").exists()
    details = [
        json.loads(e.detail)
        for e in AuditEvent.objects.filter(action="patient.update").order_by("id")
    ]
    assert [d["change"] for d in details] == ["address", "telecom", "ssn"]
    assert details[2] == {
        "change": "ssn",
        "previous": ["***-**-6789"],
        "new": "***-**-4321",
    }
    # the same A31 again changes nothing
    again = adt("A31", "C3", address="9 Oak Ave^Apt 2^Peoria^IL^61602^USA",
                phone="^PRN^PH^^^309^5550199", ssn="987654321")  # fmt: skip
    assert handle(again).code == "AA"
    assert AuditEvent.objects.filter(action="patient.update").count() == 3


def test_a40_merges_the_prior_record_and_a_resend_changes_nothing(admitted):
    dup = adt("A04", "C2", mrn="M0001", name="DOE^JANE", visit=None)
    assert handle(dup).code == "AA"
    prior = Patient.objects.get(identifiers__value="M0001")
    merge = adt("A40", "C3", visit=None) + b"MRG|M0001^^^NORTH^MR\r"
    ack = handle(merge)
    assert ack.code == "AA", ack.text
    prior.refresh_from_db()
    survivor = admitted.patient
    assert prior.merged_into_id == survivor.pk
    # The prior MRN now finds the survivor (kept as an ended identifier).
    assert Patient.objects.get(identifiers__value="M0001") == survivor
    assert AuditEvent.objects.filter(action="patient.merge").count() == 2
    again = adt("A40", "C4", visit=None) + b"MRG|M0001^^^NORTH^MR\r"
    assert handle(again).code == "AA"
    assert AuditEvent.objects.filter(action="patient.merge").count() == 2


@pytest.mark.parametrize(
    ("mrg", "location", "words"),
    [
        (b"", "MRG", "needs an MRG segment after each PID"),
        (b"MRG|\r", "MRG-1", "MRG-1 (prior patient identifier) is empty"),
        (b"MRG|NOPE^^^NORTH^MR\r", "MRG-1", "NOPE is not a patient at NORTH"),
    ],
)
def test_a40_errors_name_the_field(admitted, mrg, location, words):
    ack = handle(adt("A40", "C5", visit=None) + mrg)
    assert ack.code == "AE" and ack.location == location and words in ack.text
    assert not Patient.objects.filter(merged_into__isnull=False).exists()


def test_a40_with_two_pairs_merges_both_or_neither(admitted):
    for mrn, control in (("M0001", "D1"), ("M0002", "D2"), ("M2000", "D3")):
        assert handle(adt("A04", control, mrn=mrn, visit=None)).code == "AA"
    head = adt("A40", "D4", visit=None).decode()
    second = head.split("\r")[2].replace("M1001", "M2000")
    good = (
        head + "MRG|M0001^^^NORTH^MR\r" + second + "\rMRG|M0002^^^NORTH^MR\r"
    ).encode()
    assert handle(good).code == "AA"
    assert Patient.objects.filter(merged_into__isnull=False).count() == 2
    third = adt("A04", "D5", mrn="M0003", visit=None)
    assert handle(third).code == "AA"
    bad = (
        head + "MRG|M0003^^^NORTH^MR\r" + second + "\rMRG|NOPE^^^NORTH^MR\r"
    ).encode()
    ack = handle(bad.replace(b"|D4|", b"|D6|"))
    assert ack.code == "AE" and ack.location == "MRG-1"
    # the first pair of the refused message was not applied either
    assert Patient.objects.get(identifiers__value="M0003").merged_into_id is None
