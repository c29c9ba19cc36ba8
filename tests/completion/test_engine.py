"""The analysis against the default rules: each kind opens, closes when what it waits
for arrives, reopens when that is entered in error; re-analysis changes nothing."""

from __future__ import annotations

from datetime import timedelta

from recordroom.audit.models import AuditEvent
from recordroom.completion.engine import analyze_encounter
from recordroom.completion.models import ChartAnalysis, Deficiency, DeficiencyEvent
from recordroom.records import services as records
from recordroom.records.models import Document
from tests import factories

from .charts import (
    ADMIT,
    DISCHARGE,
    SYSTEM,
    discharge,
    file,
    of,
    one,
    procedure,
    sign,
    standing,
    visit,
)

HP, DS, OP = "34117-2", "18842-5", "11504-8"


def test_r_rc_3_discharge_opens_the_missing_h_and_p_and_discharge_summary(
    person, facility, attending
):
    enc = visit(patient=person, facility=facility, attending=attending, discharge=None)
    # In house (the nightly run; an admission alone does not run it): only the
    # in-house rules (the H&P, R-RC-3) apply.
    analyze_encounter(actor=SYSTEM, encounter=enc)
    assert of(enc, "hp-admission") == [("", "open")]
    assert of(enc, "discharge-summary") == []
    discharge(enc)  # the hook runs the analysis, as A03 does
    hp, ds = one(enc, "hp-admission"), one(enc, "discharge-summary")
    assert (hp.status, hp.kind, hp.provider_id) == (
        "open",
        "missing-document",
        attending.pk,
    )
    assert hp.due_at == ADMIT + timedelta(hours=24)
    assert ds.due_at == DISCHARGE + timedelta(days=30)
    assert ds.patient_id == person.pk and ds.rule_version == 1
    assert ChartAnalysis.objects.get(encounter=enc).open_count == 2


def test_r_rc_3_h_and_p_arrival_closes_and_entered_in_error_reopens(
    person, facility, attending
):
    enc = visit(patient=person, facility=facility, attending=attending)
    doc = file(enc, HP, ADMIT + timedelta(hours=3), author=attending)
    hp = one(enc, "hp-admission")
    assert (hp.status, hp.closed_at is not None) == ("closed", True)
    records.change_document_status(actor=SYSTEM, document=doc,
                                   status="entered-in-error", reason="wrong patient")  # fmt: skip
    hp.refresh_from_db()
    assert (hp.status, hp.closed_at) == ("open", None)
    assert [e.what for e in DeficiencyEvent.objects.filter(deficiency=hp)] == [
        "opened", "closed", "reopened"]  # fmt: skip


def test_r_rc_3_window_edges_30_days_before_and_the_update_note(
    person, facility, attending
):
    enc = visit(patient=person, facility=facility, attending=attending)
    # 30 days and one minute before admission: too early, it does not count.
    file(enc, HP, ADMIT - timedelta(days=30, minutes=1), author=attending)
    assert of(enc, "hp-admission") == [("", "open")]
    # Exactly 30 days before counts, and asks for an update note within 24 hours.
    file(enc, HP, ADMIT - timedelta(days=30), author=attending)
    assert of(enc, "hp-admission") == [("", "closed"), ("update", "open")]
    update = one(enc, "hp-admission", "update")
    assert update.due_at == ADMIT + timedelta(hours=24)
    file(enc, "HPUPDATE", ADMIT + timedelta(hours=20), author=attending)
    assert of(enc, "hp-admission") == [("", "closed"), ("update", "closed")]


def test_r_rc_3_h_and_p_24_hours_after_admission_needs_no_update(
    person, facility, attending
):
    enc = visit(patient=person, facility=facility, attending=attending)
    file(enc, HP, ADMIT + timedelta(hours=24), author=attending)
    assert of(enc, "hp-admission") == [("", "closed")]


def test_reanalysis_is_idempotent(person, facility, attending):
    enc = visit(patient=person, facility=facility, attending=attending)
    file(enc, HP, ADMIT + timedelta(hours=2), author=attending)
    rows = Deficiency.objects.filter(encounter=enc).count()
    events = AuditEvent.objects.filter(action="completion.analyze").count()
    for _ in range(3):
        result = analyze_encounter(actor=SYSTEM, encounter=enc)
        assert not result.changed
    assert Deficiency.objects.filter(encounter=enc).count() == rows
    assert AuditEvent.objects.filter(action="completion.analyze").count() == events
    assert result.open_by_kind == {"missing-document": 1, "signature": 1}


def test_r_rc_1_signature_opens_for_the_author_and_closes_when_signed(
    person, facility, attending, surgeon
):
    enc = visit(patient=person, facility=facility, attending=attending)
    ds = file(enc, DS, DISCHARGE, author=surgeon,
              text="Discharge diagnoses: appendicitis. Disposition: home.")  # fmt: skip
    sig = one(enc, "signature", f"doc:{ds.pk}")
    assert (sig.status, sig.provider_id, sig.document_id) == ("open", surgeon.pk, ds.pk)
    assert of(enc, "discharge-summary-diagnoses") == []  # its content is complete
    sign(ds, surgeon)
    sig.refresh_from_db()
    assert sig.status == "closed"
    # An addendum is a new version, unsigned: the deficiency reopens.
    records.add_version(actor=SYSTEM, document=ds, kind="addendum",
                        data=factories.pdf_bytes("Addendum. Discharge diagnoses: "
                                                 "appendicitis. Disposition: home."),
                        filename="a.pdf", reason="late lab result")  # fmt: skip
    sig.refresh_from_db()
    assert sig.status == "open"


def test_r_rc_1_cosignature_of_a_residents_note_goes_to_the_attending(
    person, facility, attending, resident
):
    standing(resident, "resident")
    enc = visit(patient=person, facility=facility, attending=attending)
    note = file(enc, "11506-3", ADMIT + timedelta(days=1), author=resident)
    sign(note, resident)
    assert of(enc, "signature") == [("doc", "closed")]
    co = one(enc, "cosignature", f"doc:{note.pk}")
    assert (co.status, co.provider_id, co.kind) == ("open", attending.pk, "cosignature")
    sign(note, attending, meaning="cosigner")
    co.refresh_from_db()
    assert co.status == "closed"
    # An attending's own note needs no co-signature.
    own = file(enc, "11506-3", ADMIT + timedelta(days=2), author=attending)
    assert not Deficiency.objects.filter(
        rule__code="cosignature", document=own
    ).exists()


def test_r_rc_1_nurse_practitioner_by_credentials_needs_a_cosignature(
    person, facility, attending
):
    from recordroom.records.services import create_provider

    np = create_provider(npi="1245319599", family="Pratt", given="Nina",
                         credentials="NP")  # fmt: skip
    enc = visit(patient=person, facility=facility, attending=attending)
    note = file(enc, "11506-3", ADMIT + timedelta(days=1), author=np)
    assert one(enc, "cosignature", f"doc:{note.pk}").status == "open"


def test_r_rc_2_verbal_order_authentication_window(person, facility, attending):
    enc = visit(patient=person, facility=facility, attending=attending, discharge=None)
    ordered = ADMIT + timedelta(hours=5)
    order = file(enc, "VORDER", ordered, author=attending)
    vo = one(enc, "verbal-order", f"doc:{order.pk}")
    assert (vo.status, vo.kind) == ("open", "verbal-order")
    assert vo.due_at == ordered + timedelta(hours=48)  # VERBAL_ORDER_AUTH_HOURS
    sign(order, attending)
    vo.refresh_from_db()
    assert vo.status == "closed"


def test_r_rc_1_dictation_pending_until_final(person, facility, attending):
    enc = visit(patient=person, facility=facility, attending=attending)
    op = file(enc, "11506-3", ADMIT + timedelta(days=1), author=attending,
              status="preliminary")  # fmt: skip
    d = one(enc, "dictation", f"doc:{op.pk}")
    assert (d.status, d.kind) == ("open", "dictation")
    records.change_document_status(actor=SYSTEM, document=op, status="final",
                                   reason="transcribed")  # fmt: skip
    d.refresh_from_db()
    assert d.status == "closed"


def test_r_rc_6_discharge_summary_must_name_the_discharge_diagnoses(
    person, facility, attending
):
    enc = visit(patient=person, facility=facility, attending=attending)
    bare = file(enc, DS, DISCHARGE, author=attending, text="Patient went home well.")
    assert of(enc, "discharge-summary") == [("", "closed")]
    inc = one(enc, "discharge-summary-diagnoses", f"doc:{bare.pk}")
    assert inc.kind == "incomplete-content"
    assert "'discharge diagnos|final diagnos'" in inc.description
    assert "'disposition'" in inc.description
    records.change_document_status(actor=SYSTEM, document=bare,
                                   status="entered-in-error", reason="redone")  # fmt: skip
    inc.refresh_from_db()
    assert (inc.status, inc.reason) == ("closed", "no longer required")
    assert of(enc, "discharge-summary") == [("", "open")]  # reopened


def test_r_rc_4_operative_report_and_r_rc_5_anesthesia_evaluations(
    person, facility, attending, surgeon
):
    enc = visit(patient=person, facility=facility, attending=attending, discharge=None)
    start = ADMIT + timedelta(days=1)
    end = start + timedelta(hours=2)
    proc = procedure(enc, start, end, performer=surgeon)
    analyze_encounter(actor=SYSTEM, encounter=enc)
    anchor = f"proc:{proc.pk}"
    op, pre, post = (one(enc, r, anchor) for r in
                     ("operative-report", "pre-anesthesia", "post-anesthesia"))  # fmt: skip
    assert op.provider_id == surgeon.pk and op.due_at == end  # immediately
    assert pre.due_at == start and post.due_at == end + timedelta(hours=48)
    assert "Appendectomy" in op.description
    # A pre-anesthesia evaluation 49 hours before does not count; 47 hours does.
    file(enc, "ANESPRE", start - timedelta(hours=49), author=surgeon)
    pre.refresh_from_db()
    assert pre.status == "open"
    file(enc, "ANESPRE", start - timedelta(hours=47), author=surgeon)
    file(enc, OP, end + timedelta(minutes=10), author=surgeon)
    file(enc, "ANESPOST", end + timedelta(hours=40), author=surgeon)
    for d in (op, pre, post):
        d.refresh_from_db()
        assert d.status == "closed", d.description


def test_a_cancelled_visit_closes_its_deficiencies(person, facility, attending):
    enc = visit(patient=person, facility=facility, attending=attending, discharge=None)
    analyze_encounter(actor=SYSTEM, encounter=enc)
    from recordroom.records.encounters import update_encounter

    update_encounter(actor=SYSTEM, encounter=enc, changes={"status": "cancelled"})
    assert of(enc, "hp-admission") == [("", "closed")]
    assert Document.objects.filter(encounter=enc).count() == 0
