"""Misfile moves: the document changes chart with its reason and history, both charts'
audit trails say so, the first chart keeps a note without content, and the privacy
officer sees who opened the document while it was in the wrong chart."""

from __future__ import annotations

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.capture import moves
from recordroom.capture.models import DocumentMove
from recordroom.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from recordroom.records import services as records
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def misfiled(facility, patient):
    return factories.document(patient=patient, facility=facility,
                              text="Progress note for someone else")  # fmt: skip


def test_r_sec_2_a_misfile_move_keeps_history_and_lists_prior_viewers(
    facility, patient, him, misfiled
):
    right = factories.patient(facility=facility, family="Núñez", given="Josefa",
                              mrn="N100009")  # fmt: skip
    nurse = factories.user("nurse1", "provider", facilities=[facility])
    records.read_content(actor=factories.actor(nurse), document=misfiled, how="view")
    records.read_content(actor=factories.actor(him), document=misfiled, how="print")
    with pytest.raises(ValidationFailed, match="give the reason"):
        moves.move_document(actor=factories.actor(him), document=misfiled,
                            to_patient=right, reason=" ")  # fmt: skip
    move = moves.move_document(actor=factories.actor(him), document=misfiled,
                               to_patient=right,
                               reason="pages name Josefa Núñez, DOB 1982-03-01")  # fmt: skip
    misfiled.refresh_from_db()
    assert misfiled.patient_id == right.pk
    row = DocumentMove.objects.get()
    assert (row.from_patient_id, row.to_patient_id, row.moved_by) == (
        patient.pk,
        right.pk,
        "him1",
    )
    assert row.privacy_reviewed_at is None
    events = AuditEvent.objects.filter(action="capture.move").order_by("id")
    assert [e.patient_id for e in events] == [str(patient.pk), str(right.pk)]
    assert '"direction":"out"' in events[0].detail
    viewers = moves.prior_viewers(move)
    assert [(v.username, v.action) for v in viewers] == [
        ("nurse1", "document.view"),
        ("him1", "document.print"),
    ]
    # reads after the move are in the right chart: not the first patient's exposure
    records.read_content(actor=factories.actor(nurse), document=misfiled, how="view")
    assert len(moves.prior_viewers(move)) == 2
    assert [m.pk for m in moves.moved_out(patient, him)] == [move.pk]
    with pytest.raises(ValidationFailed, match="already in this patient's chart"):
        moves.move_document(actor=factories.actor(him), document=misfiled,
                            to_patient=right, reason="again")  # fmt: skip


def test_the_privacy_officer_reviews_a_move_once(facility, patient, him, misfiled):
    right = factories.patient(facility=facility, family="Other", mrn="N100010")
    move = moves.move_document(actor=factories.actor(him), document=misfiled,
                               to_patient=right, reason="wrong MRN label")  # fmt: skip
    officer = factories.actor(factories.user("po1", "privacy_officer",
                                             facilities=[facility]))  # fmt: skip
    with pytest.raises(PermissionDenied):
        moves.misfile_reviews(actor=factories.actor(him))
    assert [m.pk for m in moves.misfile_reviews(actor=officer)] == [move.pk]
    moves.review_move(actor=officer, move=move, note="seen by the indexer only")
    assert list(moves.misfile_reviews(actor=officer)) == []
    assert [m.pk for m in moves.misfile_reviews(actor=officer, pending=False)] == [
        move.pk
    ]
    with pytest.raises(Conflict, match="already reviewed by po1"):
        moves.review_move(actor=officer, move=move, note="twice")
    event = AuditEvent.objects.get(action="capture.move_review")
    assert event.patient_id == str(patient.pk) and '"viewers":[]' in event.detail
