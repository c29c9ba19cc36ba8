"""Suspending the accounting of disclosures to an agency from the patient's
disclosures page (R-AOD-3): while the suspension runs, the agency's entries are
left out of the accounting shown (and produced); written: for its period; oral:
at most 30 days."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.release.accounting import accounting
from recordroom.release.disclosures import record_disclosure
from recordroom.release.models import AccountingSuspension
from tests import factories
from tests.factories import facility_today

from .conftest import signed_in

TODAY = facility_today()
OIG = "Office of Inspector General"


@pytest.fixture
def officer(db, facility):
    return factories.user("po1", "privacy_officer", facilities=[facility])


def disclose(user, patient, days_ago, recipient, description, basis):
    record_disclosure(actor=factories.actor(user), patient=patient,
                      disclosed_at=timezone.now() - timedelta(days=days_ago),
                      recipient_name=recipient, description=description,
                      purpose="as required", legal_basis=basis)  # fmt: skip


def accounting_shown(client, patient) -> tuple[str, str]:
    body = client.get(f"/release/patients/{patient.pk}/disclosures").content.decode()
    listed = body[body.index('id="accounting"') : body.index('id="suspensions-h"')]
    return listed, body[body.index('id="suspensions-h"') : body.index('id="requests"')]


def test_r_aod_3_a_written_suspension_hides_the_agency_for_its_period(officer, patient):
    client = signed_in(officer)
    disclose(officer, patient, 40, OIG, "audit sample", "oversight")
    disclose(officer, patient, 39, "County Health", "pertussis report", "public-health")
    url = f"/release/patients/{patient.pk}/accounting-suspensions"
    post = {"agency": OIG, "kind": "written",
            "statement": "Letter of Special Agent R. Diaz: an accounting would impede "
            "the investigation", "starts_on": (TODAY - timedelta(days=1)).isoformat(),
            "ends_on": ""}  # fmt: skip
    refused = client.post(url, post)
    assert refused.status_code == 422
    assert "time for which the suspension is required" in refused.content.decode()
    assert client.post(url, {**post, "kind": ""}).status_code == 422
    assert not AccountingSuspension.objects.exists()
    assert OIG in accounting_shown(client, patient)[0]

    end = TODAY + timedelta(days=60)
    done = client.post(url, {**post, "ends_on": end.isoformat()})
    assert done.status_code == 302
    listed, suspensions = accounting_shown(client, patient)
    assert OIG not in listed and "pertussis report" in listed
    assert OIG in suspensions and "in force" in suspensions
    assert f"{end:%Y-%m-%d}" in suspensions and "this patient's" in suspensions
    log = client.get(f"/release/patients/{patient.pk}/disclosures").content.decode()
    assert OIG in log[log.index('id="log"') :]  # the log keeps every entry
    # the period: shown again the day after it ends
    later = [e.description for e in accounting(patient=patient, as_of=TODAY,
                                               on=end + timedelta(days=1))]  # fmt: skip
    assert later == ["audit sample", "pertussis report"]
    event = AuditEvent.objects.filter(action="release.accounting_suspend").get()
    assert event.patient_id == str(patient.pk)
    assert json.loads(event.detail)["ends_on"] == end.isoformat()


def test_r_aod_3_an_oral_suspension_lasts_at_most_30_days(officer, patient, facility):
    client = signed_in(officer)
    other = factories.patient(facility=facility, family="Okafor", mrn="N-OK1")
    for p in (patient, other):
        disclose(officer, p, 5, "Springfield Police Department", "ED record",
                 "law-enforcement")  # fmt: skip
    done = client.post(f"/release/patients/{patient.pk}/accounting-suspensions", {
        "agency": "Springfield Police Department", "kind": "oral",
        "statement": "Det. Moore by phone, badge 4411", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=90)).isoformat(), "every_patient": "on"})  # fmt: skip
    assert done.status_code == 302
    row = AccountingSuspension.objects.get()
    assert row.ends_on == TODAY + timedelta(days=30) and row.patient is None
    # every patient's accounting: the other patient's page too
    listed, suspensions = accounting_shown(client, other)
    assert "ED record" not in listed and "every patient's" in suspensions
    shown = [e.description for e in accounting(patient=other, as_of=TODAY,
                                               on=TODAY + timedelta(days=31))]  # fmt: skip
    assert shown == ["ED record"]


def test_an_ended_suspension_is_listed_and_hides_nothing(officer, patient):
    client = signed_in(officer)
    disclose(officer, patient, 50, OIG, "audit sample", "oversight")
    client.post(f"/release/patients/{patient.pk}/accounting-suspensions", {
        "agency": OIG, "kind": "written", "statement": "letter of 2026-01-05",
        "starts_on": (TODAY - timedelta(days=45)).isoformat(),
        "ends_on": (TODAY - timedelta(days=1)).isoformat()})  # fmt: skip
    listed, suspensions = accounting_shown(client, patient)
    assert OIG in listed and OIG in suspensions and "in force" not in suspensions
