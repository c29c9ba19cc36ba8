"""Keyset pages of a chart's encounters and documents: newest first, stable cursors,
only the user's facilities, the current version annotated."""

from datetime import UTC, datetime

import pytest

from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.services import IdentifierIn, build_identifier
from recordroom.records import services
from recordroom.records.chart import MAX_PAGE, document_page, encounter_page
from recordroom.records.models import DocumentType
from tests import factories

ADMIT = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def _encounter(patient, facility, account, admit=ADMIT):
    return services.record_encounter(
        actor=factories.SYSTEM, patient=patient, facility=facility,
        account_number=account, encounter_class="AMB", admit_at=admit,
    )  # fmt: skip


def _document(patient, facility, start, code="18842-5"):
    return services.file_document(
        actor=factories.SYSTEM, patient=patient,
        doc_type=DocumentType.objects.get(code=code),
        data=factories.pdf_bytes(f"Note of {start:%Y-%m-%d}"), filename="note.pdf",
        facility=facility, service_start=start,
    )  # fmt: skip


def _accounts(page):
    return [e.account_number for e in page.items]


def test_encounters_come_newest_admission_first_and_the_cursor_walks_them_all(
    him, patient, facility
):
    for day, account in ((1, "V1"), (20, "V3"), (10, "V2")):
        _encounter(patient, facility, account, ADMIT.replace(day=day))
    first = encounter_page(user=him, patient=patient, limit=2)
    assert _accounts(first) == ["V3", "V2"]
    assert first.next == first.items[-1].pk
    second = encounter_page(user=him, patient=patient, after=first.next, limit=2)
    assert _accounts(second) == ["V1"] and second.next is None


def test_a_full_last_page_has_no_cursor(him, patient, facility):
    _encounter(patient, facility, "V1")
    page = encounter_page(user=him, patient=patient, limit=1)
    assert _accounts(page) == ["V1"] and page.next is None


def test_encounters_admitted_at_the_same_moment_are_neither_skipped_nor_repeated(
    him, patient, facility
):
    made = [_encounter(patient, facility, f"T{n}") for n in range(5)]
    seen, after = [], None
    while True:
        page = encounter_page(user=him, patient=patient, after=after, limit=2)
        seen += [e.pk for e in page.items]
        if page.next is None:
            break
        after = page.next
    assert seen == sorted((e.pk for e in made), reverse=True)


def test_a_new_encounter_does_not_shift_a_page_already_begun(him, patient, facility):
    for day, account in ((1, "V1"), (2, "V2"), (3, "V3")):
        _encounter(patient, facility, account, ADMIT.replace(day=day))
    first = encounter_page(user=him, patient=patient, limit=2)
    _encounter(patient, facility, "V9", ADMIT.replace(day=9))
    rest = encounter_page(user=him, patient=patient, after=first.next, limit=2)
    assert _accounts(rest) == ["V1"]


def test_only_encounters_at_the_users_facilities_are_listed(
    patient, facility, other_facility
):
    _encounter(patient, facility, "N1")
    _encounter(patient, other_facility, "S1", ADMIT.replace(day=5))
    north = factories.user("north1", "coder", facilities=[facility])
    everywhere = factories.user("all1", "coder", all_facilities=True)
    assert _accounts(encounter_page(user=north, patient=patient)) == ["N1"]
    assert _accounts(encounter_page(user=everywhere, patient=patient)) == ["S1", "N1"]
    assert _accounts(encounter_page(user=None, patient=patient)) == ["S1", "N1"]


def test_a_cursor_outside_the_list_is_refused_by_name(
    him, patient, facility, other_facility
):
    hidden = _encounter(patient, other_facility, "S1")
    other = factories.patient(facility=facility, family="Ito", given="Ken")
    elsewhere = _encounter(other, facility, "O1")
    for after in (hidden.pk, elsewhere.pk):
        with pytest.raises(ValidationFailed, match="is not one of this patient's") as e:
            encounter_page(user=him, patient=patient, after=after)
        assert e.value.field == "after" and str(after) in e.value.message


@pytest.mark.parametrize("limit", [0, MAX_PAGE + 1])
def test_a_limit_out_of_range_is_refused(him, patient, limit):
    with pytest.raises(ValidationFailed, match=f"limit {limit} is out of range") as e:
        document_page(user=him, patient=patient, limit=limit)
    assert e.value.field == "limit"


def test_documents_come_newest_service_date_first_with_the_current_version(
    him, patient, facility
):
    old = _document(patient, facility, ADMIT.replace(day=1), code="11506-3")
    new = _document(patient, facility, ADMIT.replace(day=9))
    services.add_version(
        actor=factories.SYSTEM, document=old, kind="addendum", reason="late entry",
        data=factories.pdf_bytes("Addendum"), filename="addendum.pdf",
    )  # fmt: skip
    services.sign_version(
        actor=factories.SYSTEM, version=new.versions.get(), signer=factories.provider()
    )
    first = document_page(user=him, patient=patient, limit=1)
    (doc,) = first.items
    assert (doc.pk, doc.current_version, doc.current_signed) == (new.pk, 1, True)
    rest = document_page(user=him, patient=patient, after=first.next)
    (doc,) = rest.items
    assert (doc.pk, doc.current_version, doc.current_signed) == (old.pk, 2, False)
    assert rest.next is None


def test_only_documents_at_the_users_facilities_are_listed(
    patient, facility, other_facility
):
    build_identifier(
        patient, IdentifierIn(kind="MR", value="S900", facility=other_facility)
    ).save()
    north_doc = _document(patient, facility, ADMIT)
    south_doc = _document(patient, other_facility, ADMIT.replace(day=2))
    north = factories.user("north1", "coder", facilities=[facility])
    south = factories.user("south1", "coder", facilities=[other_facility])
    assert [d.pk for d in document_page(user=north, patient=patient).items] == [
        north_doc.pk
    ]
    assert [d.pk for d in document_page(user=south, patient=patient).items] == [
        south_doc.pk
    ]
    with pytest.raises(ValidationFailed, match="documents"):
        document_page(user=north, patient=patient, after=south_doc.pk)
