"""Where a new document starts in a run of pages with no separator sheet: another
patient, page 1 again, a new title, a new header with another date of service; and
continuation pages (numbered next, or with no header) staying with their document."""

from __future__ import annotations

import uuid

import pytest

from recordroom.capture import cover
from recordroom.capture.models import CapturePage
from recordroom.capture.reading.boundary import (
    Running,
    marks,
    new_document,
    page_number,
)
from recordroom.capture.steps.split import cut

from .pages import page


def ours(title, n, of, *, patient="DOE, JANE", dob="03/04/1955", mrn="004512",
         service="11/02/2026"):  # fmt: skip
    return (
        f"NORTH GENERAL HOSPITAL                         Page {n} of {of}\n"
        "1200 Lake Shore Drive  Tel 312-555-0100\n"
        f"{title}\n"
        f"Patient: {patient}    DOB: {dob}    Sex: F    MRN: {mrn}\n"
        f"Date of service: {service} 09:30    Author: Ann Lee, MD\n"
        "The patient was seen and examined today and the plan was discussed with her.\n"
        "Vital signs were stable and the medications were reviewed in detail.\n"
    )


def letter(title, *, given="Jane", family="Doe", dob="3/4/1955", n=None,
           day="November 2, 2026"):  # fmt: skip
    head = "Lakeshore Family Practice\n820 Sheridan Road, Evanston, IL 60202\n"
    if n is None:
        head += f"{day}\n{title}\n"
    body = f"RE: {given} {family}    DOB: {dob}\n"
    body += (
        f"Page {n}\n" if n else f"Date of visit: {day}    Provider: Anne Keller, MD\n"
    )
    return (
        head
        + body
        + (
            "Thank you for allowing us to take part in the care of this patient who was\n"
            "seen in our office for follow up of her chronic conditions and medications.\n"
        )
    )


def split(*texts):
    """Pages in order -> [(batch page numbers, reason)] as the split step cuts them."""
    reads = {n: page(t, number=n) for n, t in enumerate(texts, 1)}
    rows = [CapturePage(number=n, barcodes=[], blank=False, flags=[]) for n in reads]
    runs, _ = cut(rows, lambda row: marks(reads[row.number], {}))
    return [(r.pages, r.reason) for r in runs]


def test_continuation_pages_numbered_next_stay_with_their_document():
    got = split(ours("DISCHARGE SUMMARY", 1, 3), ours("DISCHARGE SUMMARY", 2, 3),
                ours("DISCHARGE SUMMARY", 3, 3))  # fmt: skip
    assert got == [([1, 2, 3], "the batch starts")]


def test_page_one_again_starts_a_new_document_of_the_same_patient():
    got = split(ours("PROGRESS NOTE", 1, 2), ours("PROGRESS NOTE", 2, 2),
                ours("PROGRESS NOTE", 1, 1, service="11/05/2026"))  # fmt: skip
    assert [p for p, _ in got] == [[1, 2], [3]]
    assert got[1][1] == "page 3 is page 1 of 1"


def test_another_patient_on_a_page_starts_a_new_document_whatever_its_number():
    # page 2 of 2 of someone else's document (its first page missing) is not ours
    got = split(ours("HISTORY AND PHYSICAL", 1, 2),
                ours("HISTORY AND PHYSICAL", 2, 2, patient="ROE, MARK", dob="07/08/1960",
                     mrn="007788"))  # fmt: skip
    assert [p for p, _ in got] == [[1], [2]]
    assert got[1][1] == "page 2 names MRN 007788, the pages before MRN 004512"


def test_without_mrn_a_different_birth_date_or_name_starts_a_new_document():
    got = split(letter("Referral Letter"), letter("Referral Letter", dob="9/9/1949"))
    assert (
        got[1][1] == "page 2 gives birth date 1949-09-09, the pages before 1955-03-04"
    )
    got = split(letter("Office Visit"), letter("Office Visit", given="Mark",
                                                family="Okafor", dob="3/4/1955"))  # fmt: skip
    assert got[1][1] == "page 2 names OKAFOR, MARK, the pages before DOE, JANE"


def test_a_new_title_of_another_type_starts_a_new_document():
    got = split(letter("Consultation Report"), letter("Imaging Report"))
    assert [p for p, _ in got] == [[1], [2]]
    assert got[1][1] == (
        "page 2 is headed 'IMAGING REPORT', the pages before 'CONSULTATION REPORT'"
    )


def test_a_new_header_with_another_date_of_service_starts_a_new_document():
    got = split(letter("Referral Letter"),
                letter("Referral Letter", day="December 1, 2026"))  # fmt: skip
    assert [p for p, _ in got] == [[1], [2]]
    assert "date of service 2026-12-01" in got[1][1]


def test_a_letters_second_page_and_a_back_side_note_stay_and_the_next_letter_cuts():
    got = split(letter("Consultation Report"), letter("", n=2),
                "Copy sent to PCP", letter("Consultation Report"))  # fmt: skip
    assert [p for p, _ in got] == [[1, 2, 3], [4]]
    assert got[1][1] == (
        "page 4 has a header but no page number, the pages before were numbered"
    )


def test_a_separator_still_wins_over_content():
    reads = {1: page(ours("PROGRESS NOTE", 1, 2), number=1),
             3: page(ours("PROGRESS NOTE", 2, 2), number=3)}  # fmt: skip
    rows = [CapturePage(number=1, barcodes=[], blank=False, flags=[]),
            CapturePage(number=2, barcodes=[["code128", "RRSEP", 0, 0, 1, 1]],
                        blank=False, flags=[]),
            CapturePage(number=3, barcodes=[], blank=False, flags=[])]  # fmt: skip
    runs, result = cut(rows, lambda row: marks(reads[row.number], {}))
    assert [(r.pages, r.reason) for r in runs] == [
        ([1], "the batch starts"), ([3], "separator sheet on page 2")]  # fmt: skip
    assert (result.separators, result.by_content) == (1, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NORTH GENERAL HOSPITAL   Page 2 of 3", (2, 3)),
        ("MIDWEST LAB   PAGE 1 OF 2", (1, 2)),
        ("Page 4", (4, None)),
        (
            "DEC 01 2026 09:07  FROM: LAKESHORE 847-555-0199  TO: 847-555-0100  PAGE 3/12",
            (None, None),
        ),
        ("Pg. 2/2", (2, 2)),
        ("Page 5 of 3", (None, None)),  # not a page number that can be
    ],
)
def test_page_numbers_read_but_not_a_fax_transmission_header(text, expected):
    assert page_number(page(text)) == expected


def test_a_page_number_slip_of_one_mrn_digit_does_not_cut():
    run = Running()
    run.add(marks(page(ours("PROGRESS NOTE", 1, 2)), {}))
    slipped = marks(page(ours("PROGRESS NOTE", 2, 2, mrn="004513"), number=2), {})
    assert new_document(run, slipped) is None


def test_an_ocr_slip_in_a_surname_with_the_same_birth_date_does_not_cut():
    got = split(letter("Office Visit", family="Burns", given="David"),
                letter("", n=2, family="Bums", given="David"))  # fmt: skip
    assert [p for p, _ in got] == [[1, 2]]


def test_the_cover_sheets_count_ends_its_document_at_the_next_header():
    sheet = cover.encode(cover.Cover(
        patient_id=uuid.UUID("01890000-0000-7000-8000-000000000001"),
        doc_type="57133-1", pages=1))  # fmt: skip
    reads = {2: page(letter("Referral Letter"), number=2),
             3: page("Copy sent to PCP", number=3),
             4: page(letter("Office Visit"), number=4)}  # fmt: skip
    rows = [CapturePage(number=1, barcodes=[["qrcode", sheet, 0, 0, 1, 1]],
                        blank=False, flags=[])] + [
        CapturePage(number=n, barcodes=[], blank=False, flags=[]) for n in (2, 3, 4)]  # fmt: skip
    runs, _ = cut(rows, lambda row: marks(reads[row.number], {}))
    assert [(r.pages, r.reason) for r in runs] == [
        ([2, 3], "cover sheet on page 1"),
        ([4], "the cover sheet counted 1 page and page 4 has a header")]  # fmt: skip
    # the back side's note is not a missing or extra page
    assert "page-count" not in runs[0].flags
