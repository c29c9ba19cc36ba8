"""The disclosure log: every disclosure entered with its legal basis, which kinds
are accountable (R-AOD-2), entries never edited or deleted (database triggers),
only corrected by a new entry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.release import disclosures as ds
from recordroom.release.models import Disclosure
from tests import factories
from tests.factories import facility_today

EXCLUDED = ["treatment", "payment", "operations", "individual", "incidental",
            "authorization", "directory", "involved-in-care", "national-security",
            "custody", "limited-data-set"]  # fmt: skip
ACCOUNTABLE = ["required-by-law", "public-health", "abuse-report", "oversight",
               "court-order", "subpoena", "law-enforcement", "coroner",
               "organ-donation", "research-waiver", "serious-threat",
               "government-functions", "workers-comp", "impermissible"]  # fmt: skip


def health_dept(actor, patient, **over):
    base = dict(
        actor=actor, patient=patient, disclosed_at=timezone.now() - timedelta(days=2),
        recipient_name="Illinois Department of Public Health",
        recipient_address="535 W Jefferson St, Springfield IL 62761",
        description="Positive pertussis culture of 2026-11-20",
        purpose="Mandatory report of a notifiable disease",
        legal_basis="public-health",
    )  # fmt: skip
    base.update(over)
    return ds.record_disclosure(**base)


@pytest.mark.parametrize("basis", EXCLUDED)
def test_r_aod_2_excluded_kinds_are_not_accountable(basis):
    assert ds.is_accountable("", basis) is False
    assert ds.LEGAL_BASES[basis].excluded.startswith("R-AOD-2 (")


@pytest.mark.parametrize("basis", ACCOUNTABLE)
def test_r_aod_2_164_512_and_impermissible_disclosures_are_accountable(basis):
    assert ds.is_accountable("", basis) is True


def test_r_aod_2_the_requester_type_implies_the_basis_when_none_is_given():
    assert ds.is_accountable("patient", "") is False  # to the individual
    assert ds.is_accountable("directive", "") is False  # R-ACC-5, right of access
    assert ds.is_accountable("provider", "") is False  # treatment
    assert ds.is_accountable("authorized", "") is False  # authorization
    assert ds.is_accountable("subpoena", "") is True
    assert ds.is_accountable("law-enforcement", "") is True
    assert ds.is_accountable("law-enforcement", "custody") is False  # (k)(5)
    assert ds.is_accountable("research", "irb-waiver") is True  # intake's spelling
    with pytest.raises(ValidationFailed, match="say on what legal basis.*attorney"):
        ds.is_accountable("attorney", "")
    with pytest.raises(ValidationFailed, match="unknown legal basis 'gossip'"):
        ds.is_accountable("attorney", "gossip")


def test_a_public_health_report_outside_a_request_is_entered_and_audited(
    roi_actor, patient
):
    entry = health_dept(roi_actor, patient)
    assert entry.request is None and entry.accountable and not entry.part2
    assert entry.legal_basis == "public-health" and entry.recorded_by == "roi1"
    event = AuditEvent.objects.filter(action="release.disclosure").latest("id")
    assert event.patient_id == str(patient.pk) and event.object_id == str(entry.pk)
    detail = json.loads(event.detail)
    assert detail["recipient"] == "Illinois Department of Public Health"
    assert detail["accountable"] is True


def test_r_aod_4_an_entry_needs_recipient_description_and_purpose(roi_actor, patient):
    for name in ("recipient_name", "description", "purpose"):
        with pytest.raises(
            ValidationFailed, match=f"needs its {name.replace('_', ' ')}"
        ):
            health_dept(roi_actor, patient, **{name: "  "})
    with pytest.raises(ValidationFailed, match="is in the future"):
        health_dept(
            roi_actor, patient, disclosed_at=facility_today() + timedelta(days=2)
        )
    assert Disclosure.objects.count() == 0


def test_r_p2_1_an_entry_is_part2_when_a_document_carries_sud(
    roi_actor, patient, facility
):
    sud = factories.document(patient=patient, facility=facility,
                             text="Opioid treatment program intake",
                             sensitivity=["SUD"])  # fmt: skip
    plain = factories.document(patient=patient, facility=facility)
    entry = health_dept(roi_actor, patient, documents=[sud, str(plain.pk)], pages=2)
    assert entry.part2 is True and entry.pages == 2
    assert {d["id"] for d in entry.documents} == {str(sud.pk), str(plain.pk)}
    assert [d["labels"] for d in entry.documents if d["id"] == str(sud.pk)] == [["SUD"]]


def test_a_document_of_another_patient_is_refused(roi_actor, patient, facility):
    other = factories.patient(facility=facility, family="Other", given="Olga")
    doc = factories.document(patient=other, facility=facility)
    with pytest.raises(ValidationFailed, match="another patient's"):
        health_dept(roi_actor, patient, documents=[doc])


def test_a_patient_outside_the_actors_facilities_is_refused(patient, other_facility):
    south = factories.user("roi.south", "roi_specialist", facilities=[other_facility])
    with pytest.raises(PermissionDenied):
        health_dept(Actor(user=south, channel="web"), patient)


def test_a_release_entry_takes_the_requests_type_basis_and_address(
    roi_actor, make_request, patient
):
    req = make_request(patient, requester_type="subpoena", requester_name="Kim & Lee LLP",
                       requester_address="1 Court Sq, Chicago IL 60602",
                       delivery="mail")  # fmt: skip
    entry = ds.record_disclosure(
        actor=roi_actor, patient=patient, request=req, disclosed_at=timezone.now(),
        recipient_name="Kim & Lee LLP", description="Emergency record of 2026-03-02",
        purpose="Subpoena duces tecum, case 26-L-0411", legal_basis="",
    )  # fmt: skip
    assert (entry.requester_type, entry.legal_basis) == ("subpoena", "subpoena")
    assert entry.recipient_address == "1 Court Sq, Chicago IL 60602"
    assert entry.accountable is True


@pytest.mark.parametrize(
    "sql", ["UPDATE release_disclosure SET recipient_name = 'Mallory'",
            "DELETE FROM release_disclosure"],
)  # fmt: skip
def test_r_aod_entries_cannot_be_changed_or_deleted_even_with_raw_sql(
    roi_actor, patient, sql
):
    entry = health_dept(roi_actor, patient)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(sql)
    assert Disclosure.objects.get(pk=entry.pk).recipient_name.startswith("Illinois")


def test_a_correction_is_a_new_entry_and_the_old_one_is_kept(roi_actor, patient):
    entry = health_dept(roi_actor, patient)
    fixed = ds.correct(actor=roi_actor, entry=entry, note="wrong agency named",
                       recipient_name="Sangamon County Department of Public Health",
                       recipient_address="2833 S Grand Ave E, Springfield IL 62703")  # fmt: skip
    assert fixed.pk != entry.pk and fixed.corrects_id == entry.pk
    assert fixed.correction_note == "wrong agency named"
    assert fixed.description == entry.description and fixed.accountable
    old = Disclosure.objects.get(pk=entry.pk)
    assert old.recipient_name == "Illinois Department of Public Health"
    event = json.loads(AuditEvent.objects.filter(action="release.disclosure")
                       .latest("id").detail)  # fmt: skip
    assert event["corrects"] == str(entry.pk)
    assert event["changed"] == ["recipient_address", "recipient_name"]
    with pytest.raises(ValidationFailed, match="already corrected by"):
        ds.correct(actor=roi_actor, entry=entry, note="again", purpose="x")
    # the correction itself can be corrected, and may change the basis
    again = ds.correct(actor=roi_actor, entry=fixed, note="it was a court order",
                       legal_basis="court-order")  # fmt: skip
    assert again.corrects_id == fixed.pk and again.legal_basis == "court-order"


def test_a_correction_must_say_why_and_change_known_fields(roi_actor, patient):
    entry = health_dept(roi_actor, patient)
    with pytest.raises(ValidationFailed, match="say what the correction puts right"):
        ds.correct(actor=roi_actor, entry=entry, note=" ", purpose="x")
    with pytest.raises(ValidationFailed, match="cannot correct accountable"):
        ds.correct(actor=roi_actor, entry=entry, note="n", accountable=False)
    with pytest.raises(ValidationFailed, match="at least one field"):
        ds.correct(actor=roi_actor, entry=entry, note="n")
    assert Disclosure.objects.count() == 1
