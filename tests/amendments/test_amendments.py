"""Amendment requests (45 CFR 164.526): the request and its clock, the author's
review, acceptance appended to the entry, denial and its letter, disagreement and
rebuttal, an amendment from another covered entity. Real PDFs, read with pypdf."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from recordroom.amendments import decisions, services
from recordroom.amendments.models import EntryOutcome, LetterKind, Status
from recordroom.audit.models import AuditEvent
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from recordroom.records.models import DocumentStatus, VersionKind
from recordroom.records.services import current_version, read_content
from tests import factories
from tests.release.makers import page_texts


def _text(letter) -> str:
    return " ".join(page_texts(services.letter_bytes(letter))).replace("\n", " ")


def test_r_amd_1_a_request_needs_what_to_change_and_why(make_amendment):
    with pytest.raises(ValidationFailed) as exc:
        make_amendment(reason="  ")
    assert exc.value.field == "reason"
    with pytest.raises(ValidationFailed) as exc:
        make_amendment(change="")
    assert exc.value.field == "change"
    req = make_amendment()
    assert req.number.startswith("AMD-") and req.status == Status.RECEIVED
    assert [e.version.number for e in req.entries.all()] == [1]
    event = json.loads(
        AuditEvent.objects.filter(action="amendment.request").get().detail
    )
    assert event["number"] == req.number and event["notify"] == 1


def test_r_amd_1_entries_must_be_the_patients_own(make_amendment, facility):
    other = factories.patient(facility=facility, family="Other", given="Person")
    stranger = factories.document(patient=other, facility=facility)
    with pytest.raises(ValidationFailed) as exc:
        make_amendment(document_ids=[stranger.pk])
    assert str(stranger.pk) in exc.value.message


def test_r_amd_2_due_sixty_calendar_days_after_receipt(make_amendment):
    received = factories.facility_today() - timedelta(days=5)
    req = make_amendment(received_on=received)
    assert req.due_on == received + timedelta(days=60)
    assert req.deadline == req.due_on


def test_r_amd_2_one_extension_of_thirty_days_with_a_written_notice(
    make_amendment, him_actor
):
    req = make_amendment()
    with pytest.raises(ValidationFailed):
        services.extend(actor=him_actor, req=req, reason=" ")
    letter = services.extend(actor=him_actor, req=req,
                             reason="the author is on leave until next month.")  # fmt: skip
    req.refresh_from_db()
    assert req.extended_to == req.due_on + timedelta(days=30)
    assert letter.kind == LetterKind.EXTENSION
    text = _text(letter)
    assert "the author is on leave until next month" in text
    long = f"{req.extended_to:%B} {req.extended_to.day}, {req.extended_to.year}"
    assert long in text and "R-AMD" not in text
    with pytest.raises(Conflict) as exc:
        services.extend(actor=him_actor, req=req, reason="again")
    assert "only one extension" in exc.value.message


def test_r_amd_2_no_extension_after_the_sixty_days(make_amendment, him_actor):
    req = make_amendment(received_on=factories.facility_today() - timedelta(days=61))
    with pytest.raises(Conflict) as exc:
        services.extend(actor=him_actor, req=req, reason="late")
    assert "ended" in exc.value.message
    assert list(services.worklist(user=him_actor.user, overdue=True)) == [req]


def test_routed_to_the_author_who_reviews_it(
    make_amendment, him_actor, author, author_actor, facility
):
    req = make_amendment()
    services.route_to_author(actor=him_actor, req=req)
    assert req.author == author and req.status == Status.AUTHOR_REVIEW
    other = factories.provider(family="Other")
    other_user = factories.user("other", "provider", facilities=[facility])
    other.user = other_user
    other.save()
    with pytest.raises(PermissionDenied):
        services.author_review(actor=Actor(user=other_user), req=req, agrees=True,
                               comment="fine")  # fmt: skip
    services.author_review(actor=author_actor, req=req, agrees=False,
                           comment="The patient told me himself he smokes.")  # fmt: skip
    req.refresh_from_db()
    assert req.status == Status.REVIEWED and req.author_agrees is False
    assert req.author_reviewed_by == "osler"


def test_r_amd_4_accepting_appends_the_amendment_and_tells_everyone(
    make_amendment, him_actor, note
):
    req = make_amendment()
    out = decisions.decide(actor=him_actor, req=req, accept=[note.pk],
                           amendment_text="The patient has never smoked.")  # fmt: skip
    req.refresh_from_db()
    note.refresh_from_db()
    assert req.status == Status.ACCEPTED
    entry = req.entries.get()
    version = current_version(note)
    assert entry.outcome == EntryOutcome.ACCEPTED and entry.amended_version == version
    assert version.kind == VersionKind.ADDENDUM and version.parent.number == 1
    assert note.status == DocumentStatus.AMENDED
    pages = page_texts(read_content(actor=him_actor, document=note).data)
    assert "Patient smokes one pack a day." in pages[0]  # the original is kept
    assert "The patient has never smoked." in pages[-1]
    assert req.number in pages[-1]
    assert [(x.kind, x.recipient) for x in out] == [
        (LetterKind.ACCEPTANCE, "José Núñez"), (LetterKind.NOTICE, "Dr. Ana Ruiz")]  # fmt: skip
    told = _text(out[0])
    assert "We have amended your record" in told and "Dr. Ana Ruiz" in told
    assert "The patient has never smoked." in _text(out[1])
    assert AuditEvent.objects.filter(action="amendment.letter").count() == 2


def test_r_amd_3_denial_grounds_and_the_originator_exception(
    make_amendment, him_actor, note
):
    req = make_amendment()
    with pytest.raises(ValidationFailed) as exc:
        decisions.decide(actor=him_actor, req=req, deny=[note.pk], ground="nope",
                         basis="x")  # fmt: skip
    assert exc.value.field == "ground"
    with pytest.raises(ValidationFailed) as exc:
        decisions.decide(actor=him_actor, req=req, deny=[note.pk],
                         ground="not-created-here", basis="from St. Elsewhere",
                         originator_available=False)  # fmt: skip
    assert "originator" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        decisions.decide(actor=him_actor, req=req, deny=[note.pk], ground="accurate")
    assert exc.value.field == "basis"
    req.refresh_from_db()
    assert req.status == Status.RECEIVED  # nothing half done


def test_r_amd_5_the_denial_letter_has_every_element_in_plain_words(
    make_amendment, him_actor, note
):
    req = make_amendment()
    (letter,) = decisions.decide(
        actor=him_actor, req=req, deny=[note.pk], ground="accurate",
        basis="Dr. Osler recorded what you told him at the visit.")  # fmt: skip
    req.refresh_from_db()
    assert req.status == Status.DENIED and letter.kind == LetterKind.DENIAL
    text = _text(letter)
    assert "found it accurate and complete" in text  # (i) the basis
    assert "Dr. Osler recorded what you told him" in text
    assert "statement of disagreement" in text and "4,000 characters" in text  # (ii)
    assert "include your request and this letter" in text  # (iii)
    assert "Privacy Officer" in text and "(617) 555-0100" in text  # (iv) us
    assert "www.hhs.gov/ocr/complaints" in text  # (iv) the Secretary
    assert "R-AMD" not in text and "RECORDROOM_" not in text
    assert current_version(note).number == 1  # nothing appended


def test_r_amd_5_a_denial_is_refused_without_a_complaint_phone(
    make_amendment, him_actor, note, settings
):
    settings.ROI_CONTACT_PHONE = ""
    req = make_amendment()
    with pytest.raises(ValidationFailed) as exc:
        decisions.decide(actor=him_actor, req=req, deny=[note.pk], ground="accurate",
                         basis="accurate")  # fmt: skip
    assert "telephone" in exc.value.message
    req.refresh_from_db()
    assert req.status == Status.RECEIVED


def test_r_amd_4_partial_accepts_one_entry_and_denies_the_other(
    make_amendment, him_actor, note, patient, facility, author
):
    from tests.release.makers import file_doc

    other = file_doc(patient=patient, facility=facility, title="H&P", days_ago=30)
    req = make_amendment(document_ids=[note.pk, other.pk])
    with pytest.raises(ValidationFailed):  # every entry decided
        decisions.decide(actor=him_actor, req=req, accept=[note.pk],
                         amendment_text="x")  # fmt: skip
    out = decisions.decide(actor=him_actor, req=req, accept=[note.pk],
                           deny=[other.pk], amendment_text="Never smoked.",
                           ground="accurate", basis="The H&P is correct.")  # fmt: skip
    req.refresh_from_db()
    assert req.status == Status.PARTIAL
    assert [x.kind for x in out] == [LetterKind.PARTIAL, LetterKind.NOTICE]
    text = _text(out[0])
    assert "amended part of your record" in text and "Never smoked." in text
    assert "The H&P is correct." in text
    assert current_version(other).number == 1 and current_version(note).number == 2


def test_r_amd_6_disagreement_and_rebuttal_are_linked_and_copied(
    make_amendment, him_actor, note
):
    req = make_amendment()
    with pytest.raises(Conflict):  # only after a denial
        decisions.file_disagreement(actor=him_actor, req=req, text="I disagree")
    decisions.decide(actor=him_actor, req=req, deny=[note.pk], ground="accurate",
                     basis="It is accurate.")  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        decisions.file_disagreement(actor=him_actor, req=req, text="x" * 4001)
    assert "4,001" in exc.value.message
    with pytest.raises(Conflict):  # nothing to rebut yet
        decisions.write_rebuttal(actor=him_actor, req=req, text="No.")
    decisions.file_disagreement(actor=him_actor, req=req,
                                text="I have never smoked in my life.")  # fmt: skip
    letter = decisions.write_rebuttal(actor=him_actor, req=req,
                                      text="The history was taken from you.")  # fmt: skip
    req.refresh_from_db()
    assert req.disputed and req.rebuttal_at is not None
    assert letter.kind == LetterKind.REBUTTAL and letter.recipient == "José Núñez"
    assert "The history was taken from you." in _text(letter)
    kinds = [json.loads(e.detail)["statement"] for e in
             AuditEvent.objects.filter(action="amendment.statement").order_by("pk")]  # fmt: skip
    assert kinds == ["disagreement", "rebuttal"]


def test_r_amd_7_an_amendment_from_another_covered_entity_is_applied(
    him_actor, patient, facility, note
):
    req = decisions.apply_external_amendment(
        actor=him_actor, patient=patient, facility=facility,
        source_entity="St. Elsewhere Hospital", received_on=factories.facility_today(),
        document_ids=[note.pk], amendment_text="Allergy to penicillin was recorded in "
        "error; the patient has no known drug allergies.")  # fmt: skip
    assert req.status == Status.ACCEPTED and req.received_how == "other-entity"
    pages = page_texts(read_content(actor=him_actor, document=note).data)
    assert "no known drug allergies" in pages[-1]
    assert "St. Elsewhere Hospital" in pages[-1]
    assert not req.letters.filter(kind=LetterKind.ACCEPTANCE).exists()


def test_worklist_by_status_and_scope(make_amendment, him_actor, note, facility):
    a = make_amendment()
    b = make_amendment(received_on=factories.facility_today() - timedelta(days=10))
    decisions.decide(actor=him_actor, req=a, accept=[note.pk], amendment_text="x")
    assert list(services.worklist(user=him_actor.user)) == [b]
    assert list(services.worklist(user=him_actor.user, status="accepted")) == [a]
    outsider = factories.user("south", "him_specialist",
                              facilities=[factories.facility("WEST")])  # fmt: skip
    assert list(services.worklist(user=outsider)) == []
