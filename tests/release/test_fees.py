"""Fees: the patient's access at cost or the flat electronic fee (R-ACC-6), third
party page tiers and search/retrieval fees, invoices, payments, waivers, voids,
and release waiting for payment by setting."""

from __future__ import annotations

import json

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import ValidationFailed
from recordroom.release import fees
from recordroom.release.models import FeeSchedule
from tests.factories import facility_today


def total(lines):
    return sum(line.cents for line in lines)


def attorney(make_request, patient, **over):
    return make_request(patient, requester_type="attorney", requester_name="Kim & Lee LLP",
                        requester_address="1 Court Sq, Chicago IL 60602", **over)  # fmt: skip


def test_r_acc_6_an_electronic_copy_for_the_patient_is_the_flat_fee(
    make_request, patient
):
    req = make_request(patient)  # the patient, PDF by download link
    lines = fees.quote(req, pages=240)
    assert [(line.description, line.cents) for line in lines] == [
        ("Electronic copy, flat fee (all-inclusive)", 650)
    ]
    # a schedule set above the federal maximum is held to $6.50
    FeeSchedule.objects.filter(code="patient-access").update(electronic_flat_cents=900)
    assert total(fees.quote(req, pages=240, media="electronic")) == 650


def test_r_acc_6_no_search_or_retrieval_fee_for_the_patients_access(
    make_request, patient
):
    FeeSchedule.objects.filter(code="patient-access").update(
        search_fee_cents=1500, retrieval_fee_cents=1000
    )  # set by mistake
    req = make_request(patient, format="paper", delivery="mail",
                       requester_address="12 Elm St, Springfield IL 62701")  # fmt: skip
    lines = fees.quote(req, pages=30)
    assert [(line.description, line.cents) for line in lines] == [
        ("Pages 1-30 at $0.10 a page", 300),
        ("Postage", 73),
    ]


def test_r_acc_6_no_per_page_fee_for_an_electronic_copy(make_request, patient):
    # a cost-based schedule without the flat fee: an electronic copy has no page fee
    FeeSchedule.objects.filter(code="patient-access").update(electronic_flat_cents=None)
    req = make_request(patient, requester_type="representative",
                       representative_authority="guardian, order of 2024-05-01")  # fmt: skip
    assert fees.quote(req, pages=500) == []
    assert [(x.description, x.cents) for x in fees.quote(req, 500, "portable")] == [
        ("Portable media (CD or USB drive)", 300)
    ]


def test_third_parties_pay_page_tiers_search_and_retrieval(make_request, patient):
    req = attorney(make_request, patient, format="paper", delivery="mail")
    lines = fees.quote(req, pages=75)
    assert [(line.description, line.cents) for line in lines] == [
        ("Pages 1-20 at $1.00 a page", 2000), ("Pages 21-60 at $0.50 a page", 2000),
        ("Pages 61-75 at $0.25 a page", 375), ("Search fee", 1500),
        ("Retrieval fee", 1000), ("Postage", 73),
    ]  # fmt: skip
    FeeSchedule.objects.filter(code="third-party-example").update(max_cents=5000)
    capped = fees.quote(req, pages=75)
    assert total(capped) == 5000 and capped[-1].description.startswith("Capped at")


def test_a_state_schedule_wins_over_the_national_example(make_request, patient):
    FeeSchedule.objects.create(code="tx-third-party", name="Texas (example)",
                               requester_types=["attorney"], state="TX",
                               page_tiers=[{"up_to": None, "cents": 50}])  # fmt: skip
    req = attorney(make_request, patient, state="TX")
    assert fees.schedule_for(req).code == "tx-third-party"
    assert total(fees.quote(req, pages=10, media="paper")) == 500


def test_bad_quote_input_is_refused(make_request, patient):
    req = make_request(patient)
    with pytest.raises(ValidationFailed, match="unknown media 'vinyl'"):
        fees.quote(req, 3, "vinyl")
    with pytest.raises(ValidationFailed, match="whole number"):
        fees.quote(req, -1)


def test_invoices_are_numbered_paid_and_audited(roi_actor, make_request, patient):
    req = attorney(make_request, patient, format="paper", delivery="mail")
    inv = fees.invoice(actor=roi_actor, req=req, pages=10)
    year = facility_today().year
    assert inv.number == f"INV-{year}-000001" and inv.total_cents == 3573
    assert inv.lines[0] == {"description": "Pages 1-10 at $1.00 a page", "cents": 1000,
                            "rule": ""}  # fmt: skip
    with pytest.raises(ValidationFailed, match="already has open invoice"):
        fees.invoice(actor=roi_actor, req=req, pages=10)
    fees.record_payment(actor=roi_actor, invoice=inv, amount_cents=2000, method="check",
                        reference="check 1042")  # fmt: skip
    assert fees.balance(inv) == 1573 and inv.status == "open"
    with pytest.raises(ValidationFailed, match=r"\$20.00 is more than the \$15.73 due"):
        fees.record_payment(
            actor=roi_actor, invoice=inv, amount_cents=2000, method="card"
        )
    fees.record_payment(actor=roi_actor, invoice=inv, amount_cents=1573, method="card")
    inv.refresh_from_db()
    assert inv.status == "paid"
    with pytest.raises(ValidationFailed, match="only an open invoice"):
        fees.record_payment(actor=roi_actor, invoice=inv, amount_cents=1, method="cash")
    events = [json.loads(e.detail)["event"] for e in
              AuditEvent.objects.filter(action="release.invoice").order_by("id")]  # fmt: skip
    assert events == ["invoiced", "payment", "payment"]
    second = fees.invoice(actor=roi_actor, req=attorney(make_request, patient), pages=1)
    assert second.number == f"INV-{year}-000002"


def test_waive_and_void_need_a_reason(roi_actor, make_request, patient):
    req = attorney(make_request, patient, format="paper", delivery="mail")
    inv = fees.invoice(actor=roi_actor, req=req, pages=5)
    with pytest.raises(ValidationFailed, match="say why the invoice is waived"):
        fees.waive(actor=roi_actor, invoice=inv, reason="")
    fees.record_payment(actor=roi_actor, invoice=inv, amount_cents=500, method="cash")
    with pytest.raises(ValidationFailed, match="has payments recorded"):
        fees.void(actor=roi_actor, invoice=inv, reason="issued in error")
    inv = fees.waive(actor=roi_actor, invoice=inv, reason="financial hardship")
    assert (inv.status, inv.waiver_reason) == ("waived", "financial hardship")
    other = fees.invoice(actor=roi_actor, req=req, pages=5)
    other = fees.void(actor=roi_actor, invoice=other, reason="wrong page count")
    assert (other.status, other.void_reason) == ("void", "wrong page count")


def test_release_waits_for_payment_only_when_set(
    roi_actor, make_request, patient, settings
):
    req = attorney(make_request, patient, format="paper", delivery="mail")
    inv = fees.invoice(actor=roi_actor, req=req, pages=5)
    assert fees.payment_clear(req)[0] is True  # RECORDROOM_ROI_WAIT_FOR_PAYMENT=0
    settings.ROI_WAIT_FOR_PAYMENT = True
    ok, why = fees.payment_clear(req)
    assert not ok and why.startswith(f"invoice {inv.number} has $30.73 unpaid")
    fees.record_payment(actor=roi_actor, invoice=inv, amount_cents=3073, method="eft")
    assert fees.payment_clear(req) == (True, "no fee is outstanding")


def test_a_request_with_nothing_to_pay_never_waits(roi_actor, make_request, patient,
                                                   settings):  # fmt: skip
    settings.ROI_WAIT_FOR_PAYMENT = True
    req = make_request(
        patient, requester_type="provider", requester_name="Dr. Ada Park"
    )
    inv = fees.invoice(actor=roi_actor, req=req, pages=40)
    assert (inv.total_cents, inv.status) == (0, "waived")
    assert fees.payment_clear(req)[0] is True
