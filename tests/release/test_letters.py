"""Letters to requesters as real PDFs, kept encrypted and audited: the defect letter
names each defect in words (its rule stays in the audit trail), the extension gives the reason and the date
(R-ACC-2), the cover letter carries the Part 2 notice (R-P2-5)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import ValidationFailed
from recordroom.release import letters
from recordroom.release import requests as rq
from recordroom.release.models import Invoice, Letter
from tests.factories import facility_today
from tests.release.authorizing import authorize, item, pdf_text


@pytest.fixture
def attorney(make_request, patient):
    return make_request(patient, requester_type="attorney", requester_name="Dana Lee",
                        requester_organization="Lee & Park LLP",
                        requester_address="1 Court St\nSpringfield, IL 62701")  # fmt: skip


def test_r_auth_5_the_defect_letter_names_each_defect_in_words(roi_actor, attorney):
    authorize(roi_actor, attorney, expires_on=None, missing=("redisclosure_statement",))
    letter = letters.pend_with_defects(actor=roi_actor, req=attorney)
    attorney.refresh_from_db()
    assert attorney.status == "pending"
    assert "expiration date or event (R-AUTH-2(5))" in attorney.status_note
    text = pdf_text(letters.letter_bytes(letter))
    for words in ("Dana Lee", "Lee & Park LLP", "1 Court St", attorney.number,
                  "José Núñez", "expiration date or event",
                  "redisclosure statement", "45 CFR 164.508(b)(2)",
                  "an expiration date, or an event that ends the authorization"):  # fmt: skip
        assert words in text, words
    # the rules stay in the request's note, the letter's detail and the audit trail
    assert "R-AUTH" not in text
    assert letter.kind == "defect" and letter.request == attorney
    assert [d["rule"] for d in letter.detail["defects"]] == [
        "R-AUTH-2(5)",
        "R-AUTH-3(3)",
    ]
    event = AuditEvent.objects.filter(action="release.letter").latest("id")
    assert json.loads(event.detail) == {"kind": "defect", "request": attorney.number,
                                        "sha256": letter.sha256}  # fmt: skip


def test_letters_are_stored_encrypted_and_verified(roi_actor, attorney):
    letter = letters.render_letter(actor=roi_actor, req=attorney, kind="acknowledgment")
    raw = default_store().path_for(letter.sha256).read_bytes()
    assert b"%PDF" not in raw and b"Dana Lee" not in raw
    assert letters.letter_bytes(letter).startswith(b"%PDF")
    assert letter.size == len(letters.letter_bytes(letter))


def test_a_request_with_a_valid_basis_has_no_defect_letter(roi_actor, attorney):
    authorize(roi_actor, attorney)
    with pytest.raises(ValidationFailed, match="valid basis"):
        letters.pend_with_defects(actor=roi_actor, req=attorney)
    with pytest.raises(ValidationFailed, match="no defect"):
        letters.render_letter(actor=roi_actor, req=attorney, kind="defect")
    assert not Letter.objects.exists()


def test_r_acc_2_the_acknowledgment_gives_the_date_we_will_respond_by(
    roi_actor, make_request, patient
):
    req = make_request(patient, received_on=facility_today() - timedelta(days=2))
    text = pdf_text(letters.letter_bytes(
        letters.render_letter(actor=roi_actor, req=req, kind="acknowledgment")))  # fmt: skip
    assert f"We will respond by {letters._long(req.due_on)}" in text
    assert "30 days" in text and req.number in text


def test_r_acc_2_the_extension_letter_gives_the_reason_and_the_new_date(
    roi_actor, make_request, patient
):
    req = make_request(patient)
    with pytest.raises(ValidationFailed, match="no extension"):
        letters.render_letter(actor=roi_actor, req=req, kind="extension")
    rq.extend(actor=roi_actor, req=req, reason="the records are in off-site storage")
    text = pdf_text(letters.letter_bytes(
        letters.render_letter(actor=roi_actor, req=req, kind="extension")))  # fmt: skip
    assert "because the records are in off-site storage" in text
    assert f"We will complete it by {letters._long(req.extended_to)}" in text
    assert req.extended_to == req.due_on + timedelta(days=30)
    assert "45 CFR 164.524(b)(2)" in text and "R-ACC" not in text


def test_the_invoice_letter_lists_its_lines(roi_actor, attorney):
    with pytest.raises(ValidationFailed, match="no invoice"):
        letters.render_letter(actor=roi_actor, req=attorney, kind="invoice")
    Invoice.objects.create(
        request=attorney, number="INV-2026-000001", total_cents=4250,
        lines=[{"description": "Copies, 35 pages", "cents": 3500},
               {"description": "Postage", "cents": 750}],
        created_at=attorney.created_at, created_by="roi1")  # fmt: skip
    letter = letters.render_letter(actor=roi_actor, req=attorney, kind="invoice")
    text = pdf_text(letters.letter_bytes(letter))
    for words in ("Invoice INV-2026-000001", "Copies, 35 pages", "$35.00", "Postage",
                  "$7.50", "Total", "$42.50", "Status: Open"):  # fmt: skip
        assert words in text, words
    assert letter.detail["invoice"]


def test_r_p2_5_the_cover_letter_carries_the_part2_notice_and_consent_scope(
    roi_actor, attorney
):
    authorize(roi_actor, attorney)
    authorize(roi_actor, attorney, kind="part2", recipient="Lee & Park LLP",
              description="SUD treatment records of 2025", purpose="litigation",
              expires_on=date(2030, 1, 31))  # fmt: skip
    items = [item(attorney, position=0), item(attorney, labels=["SUD"], position=1),
             item(attorney, labels=["HIV"], included=False, position=2)]  # fmt: skip
    text = pdf_text(letters.cover_letter_pdf(attorney, items, "R-000123"))
    for words in ("R-000123", "2 documents, 2 pages", "Lee & Park LLP",
                  "42 CFR part 2 prohibits unauthorized use or disclosure",
                  "permits the release of SUD treatment records of 2025 to Lee & Park "
                  "LLP for litigation, until January 31, 2030"):  # fmt: skip
        assert words in text, words
    assert "HIV" not in text  # what was left out is not named to a third party
    plain = pdf_text(letters.cover_letter_pdf(attorney, items[:1], "R-000124"))
    assert "42 CFR part 2" not in plain and "1 document, 1 page" in plain


def test_an_unknown_letter_kind_is_refused(roi_actor, attorney):
    with pytest.raises(ValidationFailed, match="cannot write a 'thanks' letter"):
        letters.render_letter(actor=roi_actor, req=attorney, kind="thanks")


def test_names_outside_latin_1_print_in_letters(roi_actor, make_request, patient):
    from recordroom.kernel.letterpdf import REGULAR

    req = make_request(patient, requester_type="attorney",
                       requester_name="Nguyễn Thị Hoa", requester_organization="Łucja & Żaneta")  # fmt: skip
    authorize(roi_actor, req, expires_on=None)
    text = pdf_text(
        letters.letter_bytes(letters.pend_with_defects(actor=roi_actor, req=req))
    )
    if REGULAR == "Helvetica":  # no DejaVu on this system: Latin-1 only
        pytest.skip("DejaVu Sans is not installed")
    assert "Nguyễn Thị Hoa" in text and "Łucja & Żaneta" in text


def test_a_letter_is_signed_with_the_persons_name_and_title_never_a_user_name(
    roi_actor, attorney
):
    user = roi_actor.user
    text = pdf_text(letters.letter_bytes(
        letters.render_letter(actor=roi_actor, req=attorney, kind="acknowledgment")))  # fmt: skip
    # no full name: the department signs
    assert text.endswith("Release of Information North General Hospital")
    assert user.username not in text and "Prepared by" not in text
    user.first_name, user.last_name = "Marisol", "Ferreira"
    user.job_title = "Release of Information Specialist"
    user.save()
    text = pdf_text(letters.letter_bytes(
        letters.render_letter(actor=roi_actor, req=attorney, kind="acknowledgment")))  # fmt: skip
    assert text.endswith("Marisol Ferreira Release of Information Specialist "
                         "Release of Information North General Hospital")  # fmt: skip
    assert user.username not in text


def test_the_cover_letter_to_an_attorney_cites_no_rule_id(roi_actor, attorney):
    authorize(roi_actor, attorney)
    item(attorney)
    text = pdf_text(letters.cover_letter_pdf(attorney, attorney.items.all(), "R1"))
    assert "the patient's authorization" in text
    assert not re.search(r"R-[A-Z]+-\d", text), text
