"""Turning the values read into a patient and a visit, against real patients registered
through the MPI services: MRN confirmed by name and birth date, search before create,
disagreement queues, merged records followed, the visit chosen by date of service."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from recordroom.capture import cover
from recordroom.capture.reading import propose, read_values
from recordroom.capture.types import Barcode
from recordroom.mpi.merge import merge_patients
from recordroom.records import services as records
from tests import factories

from .pages import page


@pytest.fixture
def smith(facility):
    return factories.patient(facility=facility, family="Smith", given="John",
                             mrn="004512", birth_date=date(1960, 1, 2), sex="male")  # fmt: skip


@pytest.fixture
def jones(facility):
    return factories.patient(facility=facility, family="Jones", given="Mary",
                             mrn="009876", birth_date=date(1955, 3, 4))  # fmt: skip


def proposal_for(text, facility, *pages_):
    pages = [page(text), *pages_]
    return propose(read_values(pages), pages, facility=facility)


@pytest.mark.django_db
def test_mrn_at_facility_with_name_and_birth_date_agreeing(facility, smith, jones):
    p = proposal_for("Patient: SMITH, John    DOB: 01/02/1960    MRN: 4512", facility)
    assert p.patient.patient_id == smith.pk
    assert p.patient.confidence >= 0.99
    assert (
        "MRN 004512 at NORTH is theirs" in p.patient.evidence
    )  # leading zeros missing
    assert "name SMITH, JOHN agrees" in p.patient.evidence
    assert "birth date 1960-01-02 agrees" in p.patient.evidence
    assert p.flags == []


@pytest.mark.django_db
def test_mrn_that_disagrees_with_name_and_birth_date_queues(facility, smith, jones):
    # Jones's name and birth date, Smith's MRN: the worst case, never auto-filed
    p = proposal_for("Patient: JONES, Mary    DOB: 03/04/1955    MRN: 004512", facility)
    assert p.patient.confidence <= 0.3
    assert p.patient.patient_id == jones.pk  # name and birth date say Jones ...
    assert "MRN 004512 on the page belongs to another patient" in p.patient.evidence
    assert smith.pk in [
        pid for pid, _ in p.patient.candidates
    ]  # ... the MRN says Smith


@pytest.mark.django_db
def test_mrn_alone_against_the_wrong_birth_date(facility, smith):
    p = proposal_for("Patient: SMITH, John    DOB: 07/19/1972    MRN: 004512", facility)
    assert p.patient.patient_id == smith.pk
    assert p.patient.confidence == 0.3
    assert "birth date 1972-07-19 DISAGREES" in p.patient.evidence


@pytest.mark.django_db
def test_name_and_birth_date_only_search_before_create(facility, smith, jones):
    letter = (
        "I am referring our mutual patient Mary Jones (DOB 3/4/1955) for evaluation"
    )
    p = proposal_for(letter, facility)
    assert p.patient.patient_id == jones.pk
    # name and birth date exactly hers and nobody else's near: two identifiers
    assert p.patient.confidence == 0.985
    assert any(
        e.startswith("patient index match probability") for e in p.patient.evidence
    )
    assert ("no other record has this name with a like birth date, or this birth "
            "date with a like name") in p.patient.evidence  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("family", "given", "born"),
    [
        ("Jones", "Martha", date(1955, 3, 4)),  # a twin: same surname and birthday
        ("Jonas", "Mary", date(1955, 3, 4)),  # a like name born the same day
        ("Jones", "Mary", date(1955, 4, 3)),  # her name, a birth date one slip away
    ],
)
def test_name_and_birth_date_without_mrn_wait_when_another_record_is_near(
    facility, smith, jones, family, given, born
):
    factories.patient(facility=facility, family=family, given=given, birth_date=born)
    p = proposal_for("I am referring our mutual patient Mary Jones (DOB 3/4/1955) "
                     "for evaluation", facility)  # fmt: skip
    assert p.patient.patient_id == jones.pk
    assert p.patient.confidence < 0.98


@pytest.mark.django_db
def test_name_and_birth_date_wait_when_the_pages_name_someone_else_too(
    facility, smith, jones
):
    p = proposal_for("RE: Mary Jones    DOB: 03/04/1955", facility,
                     page("Patient: SMITH, John", number=2))  # fmt: skip
    assert p.patient.confidence < 0.98


@pytest.mark.django_db
def test_twins_tie_and_queue(facility):
    a = factories.patient(
        facility=facility, family="Lee", given="Anna", birth_date=date(1990, 5, 6)
    )
    factories.patient(
        facility=facility,
        family="Lee",
        given="Anna",
        mrn="L2",
        birth_date=date(1990, 5, 6),
    )
    p = proposal_for("Name: LEE, Anna    DOB: 05/06/1990", facility)
    assert p.patient.confidence <= 0.5
    assert "another patient fits as well: check both" in p.patient.evidence
    assert a.pk in [p.patient.patient_id, *[pid for pid, _ in p.patient.candidates]]


@pytest.mark.django_db
def test_unknown_patient(facility, smith):
    p = proposal_for(
        "Patient: NOBODY, Known    DOB: 09/09/1999    MRN: 777777", facility
    )
    assert p.patient.patient_id is None
    assert p.patient.confidence == 0.0


@pytest.mark.django_db
def test_cover_sheet_of_a_merged_patient_goes_to_the_survivor(facility, smith, him):
    retired = factories.patient(facility=facility, family="Smith", given="John",
                                mrn="M555", birth_date=date(1960, 1, 2))  # fmt: skip
    merge_patients(
        actor=factories.actor(him), survivor=smith, retired=retired, reason="duplicate"
    )
    p = page("COVER SHEET")
    p.barcodes.append(
        Barcode(
            "qrcode",
            cover.encode(cover.Cover(retired.pk, doc_type="18842-5")),
            (0, 0, 9, 9),
        )
    )
    body = page("DISCHARGE SUMMARY", number=2)
    proposal = propose(read_values([p, body]), [p, body], facility=facility)
    assert proposal.patient.patient_id == smith.pk
    assert proposal.patient.confidence == 1.0
    assert proposal.doc_type.code == "18842-5" and proposal.doc_type.confidence == 1.0
    assert (
        f"the record it names was merged into this one ({retired.pk} → {smith.pk})"
        in proposal.patient.evidence
    )


@pytest.mark.django_db
def test_cover_sheet_naming_nobody(facility):
    p = page("COVER SHEET")
    p.barcodes.append(
        Barcode("qrcode", cover.encode(cover.Cover(uuid.uuid4())), (0, 0, 9, 9))
    )
    proposal = propose(read_values([p]), [p], facility=facility)
    assert proposal.patient.patient_id is None


@pytest.mark.django_db
def test_merged_patient_found_by_its_old_mrn(facility, smith, him):
    retired = factories.patient(facility=facility, family="Smith", given="John",
                                mrn="M555", birth_date=date(1960, 1, 2))  # fmt: skip
    merge_patients(
        actor=factories.actor(him), survivor=smith, retired=retired, reason="duplicate"
    )
    p = proposal_for("Patient: SMITH, John    DOB: 01/02/1960    MRN: M555", facility)
    assert p.patient.patient_id == smith.pk
    assert p.patient.confidence >= 0.99


@pytest.mark.django_db
def test_visit_chosen_by_date_of_service_and_by_account(facility, smith):
    def visit(account, admit, discharge):
        return records.record_encounter(
            actor=factories.SYSTEM, patient=smith, facility=facility, account_number=account,
            encounter_class="IMP", admit_at=admit, discharge_at=discharge,
        )  # fmt: skip

    march = visit(
        "A100",
        datetime(2024, 3, 1, 15, tzinfo=UTC),
        datetime(2024, 3, 5, 15, tzinfo=UTC),
    )
    june = visit(
        "A200",
        datetime(2024, 6, 10, 15, tzinfo=UTC),
        datetime(2024, 6, 12, 15, tzinfo=UTC),
    )
    head = "Patient: SMITH, John    DOB: 01/02/1960    MRN: 004512"
    p = proposal_for(f"{head}\nDate of Service: 03/03/2024", facility)
    assert p.encounter_id == march.pk and p.service_date == date(2024, 3, 3)
    assert "visit A100 covers the date of service 2024-03-03" in p.patient.evidence
    p = proposal_for(f"{head}\nDate of Service: June 11, 2024", facility)
    assert p.encounter_id == june.pk
    p = proposal_for(f"{head}\nDate of Service: 04/20/2024", facility)
    assert p.encounter_id is None
    p = proposal_for(f"{head}\nAccount #: A200\nDate of Service: 03/03/2024", facility)
    assert p.encounter_id == june.pk  # the account read names the visit


@pytest.mark.django_db
def test_flags_conflicting_pages_and_page_count(facility, smith, jones):
    first = page("Patient: SMITH, John    DOB: 01/02/1960    MRN: 004512")
    second = page("Patient: JONES, Mary    DOB: 03/04/1955    MRN: 009876", number=2)
    p = propose(read_values([first, second]), [first, second], facility=facility)
    assert "MRNs of 2 different patients on pages [1, 2]" in p.flags
    assert "pages give different birth dates: 1955-03-04, 1960-01-02" in p.flags
    sheet = page("COVER", number=1)
    sheet.barcodes.append(
        Barcode("qrcode", cover.encode(cover.Cover(smith.pk, pages=3)), (0, 0, 9, 9))
    )
    body = page("Patient: SMITH, John    MRN: 004512", number=2)
    p = propose(read_values([sheet, body]), [sheet, body], facility=facility)
    assert "the cover sheet says 3 pages; 1 were scanned" in p.flags


@pytest.mark.django_db
def test_patient_outside_the_facility_is_flagged(facility, other_facility):
    south = factories.patient(facility=other_facility, family="Stone", given="Ada",
                              mrn="S1", birth_date=date(1970, 1, 1))  # fmt: skip
    p = proposal_for("Patient: STONE, Ada    DOB: 01/01/1970    MRN: S1", facility)
    assert p.patient.patient_id == south.pk
    assert "the patient has no MRN or visit at NORTH" in p.flags


@pytest.mark.django_db
def test_the_mrn_tells_namesakes_with_one_birth_date_apart(facility, smith):
    other = factories.patient(facility=facility, family="Smith", given="John",
                              mrn="M777", birth_date=date(1960, 1, 2))  # fmt: skip
    p = proposal_for("Patient: SMITH, John    DOB: 01/02/1960    MRN: M777", facility)
    assert p.patient.patient_id == other.pk
    assert p.patient.confidence == 0.995
    assert (
        "another record has this name and birth date (a duplicate?)"
        in p.patient.evidence
    )
    # without the MRN the two cannot be told apart
    p = proposal_for("Patient: SMITH, John    DOB: 01/02/1960", facility)
    assert p.patient.confidence == 0.5


@pytest.mark.django_db
def test_a_cover_sheet_on_another_patients_papers_is_flagged(facility, smith, jones):
    sheet = page("COVER", number=1)
    sheet.barcodes.append(
        Barcode("qrcode", cover.encode(cover.Cover(smith.pk, pages=1)), (0, 0, 9, 9))
    )
    theirs = page("Patient: JONES, Mary    DOB: 03/04/1955", number=2)
    p = propose(read_values([sheet, theirs]), [sheet, theirs], facility=facility)
    assert p.patient.patient_id == smith.pk
    assert "the pages name someone other than the cover sheet's patient" in p.flags
    his = page("Patient: SMITH, John    DOB: 01/02/1960", number=2)
    p = propose(read_values([sheet, his]), [sheet, his], facility=facility)
    assert p.flags == []


def test_a_birth_date_misread_with_a_three_digit_year_is_compared_not_a_crash():
    from recordroom.capture.reading.match import birth_level

    assert birth_level(date(203, 1, 2), date(1960, 1, 2)) == "disagree"
    assert birth_level(date(1960, 1, 3), date(1960, 1, 2)) == "near"
