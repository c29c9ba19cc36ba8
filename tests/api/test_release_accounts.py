"""Fees, disclosures, the accounting of disclosures and the desk's measures over the
API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.factories import facility_today
from tests.release.authorizing import pdf_text

from .conftest import api_for
from .test_release import body


@pytest.fixture
def roi_api(db, facility):
    return api_for(factories.user("roi1", "roi_specialist", facilities=[facility]))


def test_quote_invoice_payment_and_waiver(roi_api, patient):
    req = roi_api.post("/release-requests", body(
        patient, requester_type="authorized", requester_name="Ortega & Lane LLP",
        format="paper", delivery="mail", requester_address="1 Court Sq")).json()  # fmt: skip
    url = f"/release-requests/{req['id']}"
    quote = roi_api.get(url + "/quote", pages=30, media="paper").json()
    assert quote["schedule"] and quote["total_cents"] == sum(
        x["cents"] for x in quote["lines"]
    )
    bad = roi_api.get(url + "/quote", pages=3, media="vinyl")
    assert bad.status_code == 422 and bad.json()["field"] == "media"
    inv = roi_api.post(url + "/invoices", {"pages": 30, "media": "paper"})
    assert inv.status_code == 201 and inv.json()["total_cents"] == quote["total_cents"]
    inv = inv.json()
    again = roi_api.post(url + "/invoices", {"pages": 30})
    assert (
        again.status_code == 422
        and "already has open invoice" in again.json()["message"]
    )
    paid = roi_api.post(f"{url}/invoices/{inv['id']}/payments",
                        {"amount_cents": 500, "method": "check", "reference": "#7"}).json()  # fmt: skip
    assert (
        paid["balance_cents"] == inv["total_cents"] - 500 and paid["status"] == "open"
    )
    assert (
        roi_api.post(f"{url}/invoices/{inv['id']}/void", {"reason": "x"}).status_code
        == 422
    )
    waived = roi_api.post(
        f"{url}/invoices/{inv['id']}/waive", {"reason": "hardship"}
    ).json()
    assert waived["status"] == "waived"
    assert [i["number"] for i in roi_api.get(url + "/invoices").json()] == [
        inv["number"]
    ]


def test_disclosures_the_accounting_and_its_pdf(roi_api, patient):
    base = f"/patients/{patient.pk}"
    entered = roi_api.post(base + "/disclosures", {
        "disclosed_at": (timezone.now() - timedelta(days=2)).isoformat(),
        "recipient_name": "County Health Dept", "description": "lab result",
        "purpose": "disease report", "legal_basis": "public-health"})  # fmt: skip
    assert entered.status_code == 201 and entered.json()["accountable"] is True
    unknown = roi_api.post(base + "/disclosures", {
        "disclosed_at": timezone.now().isoformat(), "recipient_name": "X",
        "description": "y", "purpose": "z", "legal_basis": "gossip"})  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["field"] == "legal_basis"
    fixed = roi_api.post(f"/disclosures/{entered.json()['id']}/corrections",
                         {"note": "its full name", "recipient_name": "Sangamon County Health Dept"})  # fmt: skip
    assert (
        fixed.status_code == 201 and fixed.json()["corrects_id"] == entered.json()["id"]
    )
    assert len(roi_api.get(base + "/disclosures").json()) == 2
    today = roi_api.get(base + "/accounting-of-disclosures").json()
    assert [e["recipient_name"] for e in today["entries"]] == [
        "Sangamon County Health Dept"
    ]
    assert today["entries"][0]["basis"].startswith("Public health activity")
    logged = roi_api.post(base + "/accounting-requests",
                          {"received_on": facility_today().isoformat(), "requested_by": "José"})  # fmt: skip
    assert logged.status_code == 201 and logged.json()["fee_cents"] == 0
    acc = logged.json()["id"]
    produced = roi_api.post(f"/accounting-requests/{acc}/produce").json()
    assert produced["entries"] == 1 and produced["letter_id"]
    pdf = roi_api.get(f"/accounting-requests/{acc}/pdf")
    assert pdf.status_code == 200 and "Sangamon County Health Dept" in pdf_text(
        pdf.content
    )


def test_the_desks_measures(roi_api, patient):
    roi_api.post("/release-requests", body(
        patient, received_on=(facility_today() - timedelta(days=40)).isoformat()))  # fmt: skip
    m = roi_api.get("/release-dashboard").json()
    assert (m["open_total"], m["overdue"]) == (1, 1)
    assert m["open_by_status"]["received"]["31-60 days"] == 1


def test_a_coder_may_not_read_a_patients_accounting(db, facility, patient):
    coder = api_for(factories.user("coder1", "coder", facilities=[facility]))
    refused = coder.get(f"/patients/{patient.pk}/accounting-of-disclosures")
    assert refused.status_code == 403
