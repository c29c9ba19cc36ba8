"""The desk's money and records of what left: a request's quote, invoice, payments,
waiver and invoice letter; a patient's disclosures page (the accounting today, the
log and its corrections, a disclosure outside a request, a request for an
accounting produced as a PDF); the desk's measures; legal papers at intake."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.release.disclosures import record_disclosure
from recordroom.release.models import (
    AccountingRequest,
    Disclosure,
    Invoice,
    Letter,
    ReleaseRequest,
)
from tests import factories
from tests.factories import facility_today
from tests.release.authorizing import pdf_text

from .conftest import signed_in
from .test_release_desk import intake_post, make_request


@pytest.fixture
def roi(db, facility):
    return factories.user("roi1", "roi_specialist", facilities=[facility])


@pytest.fixture
def roi_client(roi):
    return signed_in(roi)


def attorney(roi, patient, **over):
    return make_request(roi, patient, requester_type="authorized", format="paper",
                        requester_name="Ortega & Lane LLP", delivery="mail",
                        requester_address="1 Court Sq", **over)  # fmt: skip


# --- fees ------------------------------------------------------------------------------------


def test_quote_invoice_pay_and_write_the_invoice_letter(roi, roi_client, patient):
    req = attorney(roi, patient)
    page = roi_client.get(f"/release/{req.pk}", {"quote_pages": "30"}).content.decode()
    assert "Third-party" in page or "third" in page.lower()  # the schedule's name
    assert "Pages 1-20" in page and "Total" in page
    made = roi_client.post(
        f"/release/{req.pk}/invoices", {"pages": "30", "media": "paper"}
    )
    assert made.status_code == 302
    inv = Invoice.objects.get()
    assert inv.total_cents > 0 and inv.status == "open"
    url = f"/release/{req.pk}/invoices/{inv.pk}"
    too_much = roi_client.post(url, {"step": "payment", "method": "check",
                                     "amount": f"{inv.total_cents / 100 + 1:.2f}"})  # fmt: skip
    assert (
        too_much.status_code == 422 and "is more than the" in too_much.content.decode()
    )
    bad = roi_client.post(url, {"step": "payment", "method": "check", "amount": "ten"})
    assert bad.status_code == 422 and "an amount in dollars" in bad.content.decode()
    roi_client.post(url, {"step": "payment", "method": "check", "reference": "#1001",
                          "amount": f"{inv.total_cents / 100:.2f}"})  # fmt: skip
    inv.refresh_from_db()
    assert inv.status == "paid" and inv.payments.get().reference == "#1001"
    roi_client.post(url, {"step": "letter"})
    letter = Letter.objects.get(kind="invoice")
    assert inv.number in pdf_text(
        roi_client.get(f"/release/letters/{letter.pk}").content
    )


def test_waive_needs_a_reason(roi, roi_client, patient):
    req = attorney(roi, patient)
    roi_client.post(f"/release/{req.pk}/invoices", {"pages": "5", "media": "paper"})
    inv = Invoice.objects.get()
    url = f"/release/{req.pk}/invoices/{inv.pk}"
    refused = roi_client.post(url, {"step": "waive", "reason": ""})
    assert refused.status_code == 422 and "say why" in refused.content.decode()
    roi_client.post(url, {"step": "waive", "reason": "hardship"})
    inv.refresh_from_db()
    assert (inv.status, inv.waiver_reason) == ("waived", "hardship")


def test_r_acc_6_the_patients_electronic_copy_is_quoted_at_the_flat_fee(
    roi, roi_client, patient
):
    req = make_request(roi, patient)  # the patient, a PDF by download
    page = roi_client.get(f"/release/{req.pk}", {"quote_pages": "500"}).content.decode()
    assert "flat fee" in page and "Search fee" not in page and "Pages 1-" not in page


# --- a patient's disclosures -----------------------------------------------------------------


@pytest.fixture
def him_manager(db, facility):
    return signed_in(factories.user("mgr1", "him_manager", facilities=[facility]))


def test_the_disclosures_page_lists_the_accounting_and_the_log(
    roi, roi_client, patient
):
    actor = factories.actor(roi)
    court = record_disclosure(
        actor=actor, patient=patient, disclosed_at=facility_today() - timedelta(days=3),
        recipient_name="Springfield County Court", description="discharge summary",
        purpose="court order", legal_basis="court-order")  # fmt: skip
    record_disclosure(actor=actor, patient=patient, disclosed_at=timezone.now(),
                      recipient_name="José Núñez", description="whole record",
                      purpose="own copy", legal_basis="individual")  # fmt: skip
    page = roi_client.get(f"/release/patients/{patient.pk}/disclosures")
    body = page.content.decode()
    assert page.status_code == 200
    accounting = body[body.index('id="accounting"') : body.index('id="requests"')]
    assert "Springfield County Court" in accounting and "José Núñez" not in accounting
    log = body[body.index('id="log"') :]
    assert (
        "Springfield County Court" in log
        and "José Núñez" in log
        and "not listed" in log
    )
    read = AuditEvent.objects.filter(action="chart.open").latest("id")
    assert json.loads(read.detail) == {"part": "disclosures"}
    chart = roi_client.get(f"/patients/{patient.pk}").content.decode()
    assert f'href="/release/patients/{patient.pk}/disclosures"' in chart

    refused = roi_client.post(f"/release/disclosures/{court.pk}/correct",
                              {"recipient_name": "Springfield Circuit Court", "note": ""})  # fmt: skip
    assert refused.status_code == 422 and "say what the correction puts right" in (
        refused.content.decode())  # fmt: skip
    roi_client.post(f"/release/disclosures/{court.pk}/correct",
                    {"recipient_name": "Springfield Circuit Court",
                     "description": court.description, "note": "court's name"})  # fmt: skip
    fixed = Disclosure.objects.get(corrects=court)
    assert fixed.recipient_name == "Springfield Circuit Court"
    event = AuditEvent.objects.filter(action="release.disclosure").latest("id")
    assert json.loads(event.detail)["changed"] == ["recipient_name"]


def test_enter_a_disclosure_outside_a_request(roi_client, patient):
    url = f"/release/patients/{patient.pk}/disclosures/new"
    missing = roi_client.post(url, {"recipient_name": "County Health Dept",
                                    "description": "lab result", "purpose": "report",
                                    "legal_basis": "", "pages": "1"})  # fmt: skip
    assert missing.status_code == 422 and "legal basis" in missing.content.decode()
    assert not Disclosure.objects.exists()
    roi_client.post(url, {"recipient_name": "County Health Dept", "description": "lab result",
                          "purpose": "notifiable disease report",
                          "legal_basis": "public-health", "pages": "1"})  # fmt: skip
    entry = Disclosure.objects.get()
    assert entry.accountable and entry.request_id is None


def test_r_aod_5_an_accounting_request_is_logged_and_produced_as_a_pdf(
    roi, roi_client, patient
):
    record_disclosure(actor=factories.actor(roi), patient=patient,
                      disclosed_at=facility_today() - timedelta(days=10),
                      recipient_name="County Health Dept", description="lab result",
                      purpose="disease report", legal_basis="public-health")  # fmt: skip
    base = f"/release/patients/{patient.pk}/accounting-requests"
    none = roi_client.post(base, {"received_on": facility_today().isoformat(),
                                  "requested_by": ""})  # fmt: skip
    assert none.status_code == 422 and "name who asked" in none.content.decode()
    roi_client.post(base, {"received_on": facility_today().isoformat(),
                           "requested_by": "José Núñez"})  # fmt: skip
    acc = AccountingRequest.objects.get()
    assert acc.due_on == facility_today() + timedelta(days=60) and acc.fee_cents == 0
    roi_client.post(f"/release/accounting-requests/{acc.pk}", {"step": "produce"})
    acc.refresh_from_db()
    assert acc.produced_at is not None and acc.entries == 1
    pdf = roi_client.get(f"/release/accounting-requests/{acc.pk}/letter")
    assert pdf.status_code == 200 and "County Health Dept" in pdf_text(pdf.content)
    again = roi_client.post(
        f"/release/accounting-requests/{acc.pk}", {"step": "produce"}
    )
    assert again.status_code == 422 and "was produced on" in again.content.decode()


def test_who_may_open_a_patients_disclosures(db, facility, patient, him_manager):
    assert (
        him_manager.get(f"/release/patients/{patient.pk}/disclosures").status_code
        == 200
    )
    privacy = signed_in(factories.user("po1", "privacy_officer", facilities=[facility]))
    assert privacy.get(f"/release/patients/{patient.pk}/disclosures").status_code == 200
    coder = signed_in(factories.user("coder1", "coder", facilities=[facility]))
    assert coder.get(f"/release/patients/{patient.pk}/disclosures").status_code == 403


# --- the desk's measures, legal papers at intake ---------------------------------------------


def test_the_worklist_shows_the_desks_measures(roi, roi_client, patient):
    make_request(roi, patient, received_on=facility_today() - timedelta(days=45))
    make_request(roi, patient)
    body = roi_client.get("/release/").content.decode()
    measures = body[body.index('class="measures"') : body.index("</section>")]
    assert "<dt>Open</dt><dd>2</dd>" in measures
    assert '<strong class="tag flag">1</strong>' in measures  # overdue
    assert "31-60 days" in measures and "$0.00" in measures


def test_a_subpoenas_papers_are_logged_with_the_request_and_checked(
    roi_client, patient
):
    post = intake_post(patient, requester_type="subpoena", requester_name="Doe v. Roe",
                       **{"legal-assurance": "notice", "legal-written_statement": "on",
                          "legal-documents": "notice letter\ncertified mail receipt",
                          "legal-notice_sent_on": (facility_today() - timedelta(days=20)).isoformat(),
                          "legal-objection_deadline": (facility_today() + timedelta(days=5)).isoformat()})  # fmt: skip
    assert roi_client.post("/release/new", post).status_code == 302
    req = ReleaseRequest.objects.get()
    assert req.legal_detail["assurance"] == "notice"
    assert req.legal_detail["documents"] == ["notice letter", "certified mail receipt"]
    page = roi_client.get(f"/release/{req.pk}").content.decode()
    assert (
        "objection period not over" in page.lower()
        or "Objection period not over" in page
    )
    assert "content of the notice" in page.lower()  # notice_sufficient not ticked
