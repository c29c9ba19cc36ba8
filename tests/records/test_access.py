"""Labels applied to the record: what a user may read among a chart's documents and
visits, in one check and as a query (both databases), R-P2-1, R-PN-2, R-STATE-2."""

from __future__ import annotations

import pytest

from recordroom.accounts.labels import break_the_glass
from recordroom.kernel.errors import PermissionDenied
from recordroom.records import access
from recordroom.records import services as records
from recordroom.records.models import Document, Encounter
from tests import factories
from tests.labelled import labelled_chart


@pytest.fixture
def chart(db, facility):
    return labelled_chart(facility)


def _readable(user) -> set[str]:
    rows = access.readable_documents(Document.objects.all(), user)
    return set(rows.values_list("title", flat=True))


def test_r_p2_1_r_pn_2_lists_keep_only_what_the_user_may_read(chart):
    everything = set(Document.objects.values_list("title", flat=True))
    assert _readable(chart.him) == {"Discharge summary"}
    assert _readable(chart.doctor) == {
        "Discharge summary", "Opioid treatment program visit",
        "Infectious disease summary",
    }  # fmt: skip
    assert _readable(chart.therapist) == _readable(chart.doctor) | {"Session notes"}
    assert _readable(chart.privacy) == everything - {"Session notes"}
    assert _readable(None) == everything  # the system itself


def test_break_the_glass_opens_one_chart_in_the_query_too(chart):
    doctor = chart.doctor
    assert "VIP discharge summary" not in _readable(doctor)
    break_the_glass(actor=factories.actor(doctor), patient_id=chart.vip.pk,
                    labels=["VIP"], reason="Fell in the lobby, treating now")  # fmt: skip
    assert "VIP discharge summary" in _readable(doctor)
    assert access.document_access(doctor, chart.vip_plain).how == "break-the-glass"


def test_get_document_refuses_a_label_by_name(chart):
    with pytest.raises(
        PermissionDenied,
        match=r"restricted \(Psychiatry information and Psychotherapy note\)",
    ):
        records.get_document(user=chart.him, document_id=chart.therapy.pk)
    doc = records.get_document(user=chart.therapist, document_id=chart.therapy.pk)
    assert access.document_access(chart.therapist, doc).how == "author"
    records.get_document(user=chart.him, document_id=chart.plain.pk)  # no label


def test_a_note_in_a_part_2_visit_is_part_2(chart, facility):
    visit = factories.encounter(patient=chart.patient, facility=facility)
    Encounter.objects.filter(pk=visit.pk).update(sensitivity=["SUD"])
    visit.refresh_from_db()
    note = factories.document(patient=chart.patient, facility=facility,
                              encounter=visit, text="Intake")  # fmt: skip
    note.refresh_from_db()
    assert not access.document_access(chart.him, note).allowed
    assert not access.readable_documents(
        Document.objects.filter(pk=note.pk), chart.him
    ).exists()
    assert not access.readable_encounters(
        Encounter.objects.filter(pk=visit.pk), chart.him
    ).exists()
    assert access.readable_encounters(
        Encounter.objects.filter(pk=visit.pk), chart.doctor
    ).exists()


def test_psy_does_not_match_psythpn_in_the_query(chart, facility):
    # A coder reads PSY (state category) but not PSYTHPN: the quoted match keeps apart.
    coder = factories.user("coder-l", "coder", facilities=[facility])
    psy = factories.document(patient=chart.patient, facility=facility,
                             sensitivity=["PSY"])  # fmt: skip
    rows = access.readable_documents(Document.objects.all(), coder)
    assert rows.filter(pk=psy.pk).exists()
    assert not rows.filter(pk=chart.therapy.pk).exists()
