"""Reading identifying values off pages in the layouts hospitals, clinics, labs and
letters use (and through OCR slips), each with the box of its words."""

from __future__ import annotations

import uuid

import pytest

from recordroom.capture import cover
from recordroom.capture.reading import read_values
from recordroom.capture.reading.extract import read_page
from recordroom.capture.reading.fields import identifier, person_name
from recordroom.capture.types import Barcode, PageRead, Word
from tests import factories

from .pages import CHAR, page


def found(values, kind):
    return [v.normalised for v in values if v.kind == kind]


def one(values, kind):
    out = [v for v in values if v.kind == kind]
    assert out, f"no {kind} in {values}"
    return out[0]


@pytest.mark.django_db
def test_our_own_header_layout():
    values = read_values(
        [
            page("""
North General Hospital
12 Elm St, Springfield IL  Tel 217-555-0100
Discharge summary
Patient: SMITH, John A    DOB: 01/02/1960    Sex: male    MRN: 00123456
Account: A00001234    Inpatient, 4 West
Admitted: 03/01/2024 08:00    Discharged: 03/04/2024 11:00    Attending: OSLER, William
Date of service: 03/04/2024 11:00    Author: OSLER, William
""")
        ]
    )
    assert found(values, "mrn") == ["00123456"]
    assert found(values, "name") == ["SMITH, JOHN A"]
    assert found(values, "birth_date") == ["1960-01-02"]
    assert found(values, "account") == ["A00001234"]
    assert set(found(values, "service_date")) == {"2024-03-04", "2024-03-01"}
    assert one(values, "service_date").normalised == "2024-03-04"  # the named one first
    assert found(values, "author") == ["OSLER, WILLIAM"]
    # the MRN's box is the box of its word: line 4, after 'MRN: '
    mrn = one(values, "mrn")
    col = "Patient: SMITH, John A    DOB: 01/02/1960    Sex: male    MRN: ".__len__()
    assert mrn.bbox == (100 + col * CHAR, 250, 100 + (col + 8) * CHAR, 280)
    assert mrn.page == 1 and mrn.source == "text" and 0.9 < mrn.confidence <= 1


@pytest.mark.django_db
def test_outside_hospital_discharge_summary():
    values = read_values(
        [
            page("""
ST. ELSEWHERE MEDICAL CENTER
DISCHARGE SUMMARY
Name: Maria L. Gonzalez          Medical Record No: 0045 1278
Account #: 99-1234567            Admission Date: 3 January 2024
Date of Birth: Jan 2, 1960       Attending Physician: Robert Chen, MD
""")
        ]
    )
    assert found(values, "name") == ["GONZALEZ, MARIA L"]
    assert found(values, "mrn") == ["00451278"]
    assert found(values, "account") == ["991234567"]
    assert found(values, "service_date") == ["2024-01-03"]
    assert found(values, "birth_date") == ["1960-01-02"]
    assert found(values, "author") == ["CHEN, ROBERT"]


@pytest.mark.django_db
def test_clinic_fax_cover():
    values = read_values(
        [
            page("""
LAKESIDE FAMILY CLINIC  -  FAX
To: Medical Records          From: Dr. Amy Park
RE: John Q Public            DOB 1960-01-02
Date: 02/14/2024             Pages: 3
""")
        ]
    )
    assert found(values, "name") == ["PUBLIC, JOHN Q"]
    assert found(values, "birth_date") == ["1960-01-02"]
    assert found(values, "service_date") == ["2024-02-14"]
    assert one(values, "name").confidence < 0.7  # 'RE:' names the patient less surely


@pytest.mark.django_db
def test_lab_report_in_capitals():
    values = read_values(
        [
            page("""
REGIONAL REFERENCE LABORATORY
PATIENT NAME: DOE, JANE            MR#: 7781234
DOB: 12/25/1975  AGE: 48  SEX: F
COLLECTED: 02/03/2024 08:15        ORDERING PHYSICIAN: LEE, ANN
""")
        ]
    )
    assert found(values, "name") == ["DOE, JANE"]
    assert found(values, "mrn") == ["7781234"]
    assert found(values, "birth_date") == ["1975-12-25"]
    assert found(values, "service_date") == ["2024-02-03"]
    # the ordering physician is not the patient
    assert "LEE, ANN" not in found(values, "name")


@pytest.mark.django_db
def test_referral_letter_names_the_patient_in_prose():
    values = read_values(
        [
            page("""
Dear Dr. Osler,
I am referring our mutual patient Mary Ann Jones (DOB 3/4/1955) for evaluation
of exertional chest pain. She was last seen here on March 1, 2024.
Sincerely,
Electronically signed by Dr. Amy Park, MD 03/02/2024
""")
        ]
    )
    assert found(values, "name") == ["JONES, MARY ANN"]
    assert found(values, "birth_date") == ["1955-03-04"]
    assert found(values, "author") == ["PARK, AMY"]
    assert found(values, "mrn") == []


@pytest.mark.django_db
def test_values_printed_under_their_labels():
    values = read_values(
        [
            page("""
Patient Name:            Medical Record Number:      Date of Birth:
WILLIAMS, Sarah          00098765                    July 4, 1981
""")
        ]
    )
    assert found(values, "name") == ["WILLIAMS, SARAH"]
    assert found(values, "mrn") == ["00098765"]
    assert found(values, "birth_date") == ["1981-07-04"]
    assert one(values, "mrn").bbox[1] == 150  # on the second line


@pytest.mark.django_db
def test_ocr_slips_in_digits_and_labels():
    values = read_values(
        [
            page(
                """
Patient: KOWALSKI, Anna    D0B: O4/l2/l97S    MRN: OO4S12
""",
                low=("OO4S12",),
            )
        ]
    )
    assert found(values, "mrn") == ["004512"]
    assert found(values, "birth_date") == ["1975-04-12"]
    values_2 = read_values(
        [page("PATIENT NAME:-NOVAK, ANDREW    Date of Birth: Apr 21; 1982")]
    )
    assert found(values_2, "name") == ["NOVAK, ANDREW"]
    assert found(values_2, "birth_date") == ["1982-04-21"]
    # a poorly read word lowers the value's confidence
    assert one(values, "mrn").confidence < one(values, "name").confidence


def test_identifier_forms():
    assert identifier("004512")[0] == "004512"
    assert identifier("M0012345")[0] == "M0012345"
    assert identifier("N-100001")[0] == "N100001"
    assert identifier(" O0l23")[0] == "00123"
    assert identifier("OO4S12")[0] == "004512"
    assert identifier("O0l2S") is None  # two real digits are not enough
    assert identifier("unknown") is None
    assert identifier("12") is None


def test_name_forms():
    assert person_name("SMITH, John A")[:2] == ("SMITH", "John A")
    assert person_name("John A. Smith")[:2] == ("Smith", "John A")
    assert person_name("Dr. Ann Lee, MD")[:2] == ("Lee", "Ann")
    assert person_name("O'BRIEN-NUNEZ, Jose")[:2] == ("O'BRIEN-NUNEZ", "Jose")
    assert person_name("male") is None


@pytest.mark.django_db
def test_dates_in_many_formats():
    for text, iso in [
        ("01/02/1960", "1960-01-02"), ("1960-01-02", "1960-01-02"),
        ("Jan 2, 1960", "1960-01-02"), ("2 January 1960", "1960-01-02"),
        ("01-02-60", "1960-01-02"), ("02-Jan-1960", "1960-01-02"),
        ("25.12.1960", "1960-12-25"),
    ]:  # fmt: skip
        values = read_values([page(f"DOB: {text}")])
        assert found(values, "birth_date") == [iso], text


@pytest.mark.django_db
def test_cover_sheet_barcode():
    pid, eid = uuid.uuid4(), uuid.uuid4()
    text = cover.encode(cover.Cover(pid, eid, "18842-5", 3, "NORTH"))
    p = page("RECORDROOM COVER SHEET")
    p.barcodes.append(Barcode("qrcode", text, (10, 10, 300, 300)))
    values = read_values([p])
    by_kind = {v.kind: v for v in values if v.source == "barcode"}
    assert by_kind["mrn"].normalised == f"id:{pid}"
    assert by_kind["account"].normalised == f"id:{eid}"
    assert by_kind["doc_type"].normalised == "18842-5"
    assert by_kind["pages"].normalised == "3"
    assert by_kind["facility"].normalised == "NORTH"
    assert all(
        v.confidence == 1.0 and v.bbox == (10, 10, 300, 300) for v in by_kind.values()
    )


@pytest.mark.django_db
def test_facility_from_letterhead(facility):
    values = read_values(
        [
            page("""
North General Hospital
Patient: SMITH, John    MRN: 123456
""")
        ]
    )
    assert found(values, "facility") == ["NORTH"]


@pytest.mark.django_db
def test_author_matched_to_a_provider():
    osler = factories.provider(family="Osler", given="William")
    factories.provider(family="Osler", given="Margaret")
    values = read_values(
        [page("Electronically signed by Dr. William Osler, MD 03/02/2024")]
    )
    assert found(values, "author") == [f"provider:{osler.pk}"]
    assert one(values, "author").text == "William Osler"
    # two providers fit 'M. Lee'? none named Lee: kept as read
    values = read_values([page("Dictated by: LEE, Ann")])
    assert found(values, "author") == ["LEE, ANN"]


@pytest.mark.django_db
def test_facility_by_code_after_its_label(facility):
    values = read_values([page("Facility: NORTH    Unit: 4 West")])
    assert found(values, "facility") == ["NORTH"]


def test_a_typewriter_fonts_single_space_is_not_a_field_gap():
    # Courier capitals: a space as wide as a letter is tall
    words = [Word("PATIENT", (100, 100, 226, 118), -1.0, 0),
             Word("NAME:", (244, 100, 334, 118), -1.0, 0),
             Word("OTERO,", (352, 100, 460, 118), -1.0, 0),
             Word("IRMA", (478, 100, 550, 118), -1.0, 0),
             Word("DOB:", (658, 100, 730, 118), -1.0, 0),
             Word("10/18/1953", (748, 100, 928, 118), -1.0, 0)]  # fmt: skip
    found = read_page(PageRead(1, 1700, 2200, 200, words=words), {})
    assert {(v.kind, v.normalised) for v in found} >= {
        ("name", "OTERO, IRMA"), ("birth_date", "1953-10-18")}  # fmt: skip
