"""Search before create on every registration (API, ADT): link above the facility's
auto-link threshold, create and send to review between, create below; every
decision kept with its evidence; automatic links sampled and reviewed."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.kernel.actor import SYSTEM, Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.linkage import registration
from recordroom.mpi.linkage.models import MatchDecision
from recordroom.mpi.models import OverlayFlag, Patient
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn
from tests import factories
from tests.api.conftest import api_for
from tests.interop.hl7v2.test_services import adt


def maja(mrn: str, facility: str) -> dict:
    return {
        "names": [{"family": "Lindqvist", "given": "Maja"}],
        "birth_date": "1972-11-30",
        "sex": "female",
        "identifiers": [{"kind": "MR", "value": mrn, "facility": facility},
                        {"kind": "SS", "value": "987-65-4321"}],
        "addresses": [{"line1": "7 Birch Ave", "city": "Duluth", "state": "MN",
                       "postal_code": "55802"}],
    }  # fmt: skip


@pytest.fixture
def both_api(db, facility, other_facility):
    user = factories.user(
        "reg2", "him_specialist", facilities=[facility, other_facility]
    )
    return api_for(user)


def test_the_same_person_at_a_second_facility_is_linked_not_created(both_api):
    first = both_api.post("/patients", maja("N300123", "NORTH"))
    assert first.status_code == 201 and first.json()["outcome"] == "created"
    resp = both_api.post("/patients", maja("S77", "SOUTH"))
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["outcome"] == "linked" and body["id"] == first.json()["id"]
    assert body["probability"] >= 0.98
    assert body["candidates"][0]["patient_id"] == body["id"]
    patient = Patient.objects.get()  # still one record, now with both MRNs
    assert sorted(patient.identifiers.filter(kind="MR").values_list("value", flat=True)) == [
        "N300123", "S77"]  # fmt: skip
    decision = MatchDecision.objects.get(pk=body["decision"])
    assert decision.outcome == "linked" and not decision.manual
    assert decision.identifiers_added == ["S77"]  # the SSN was already there
    assert {e["comparison"] for e in decision.evidence} >= {"birth_date", "family_name"}
    assert decision.thresholds == {"auto_link": 0.98, "review": 0.5}
    event = AuditEvent.objects.filter(action="mpi.registration_match").latest("id")
    assert event.patient_id == str(patient.pk)
    assert json.loads(event.detail)["outcome"] == "linked"


def test_a_second_mrn_at_the_same_facility_is_created_and_sent_to_review(both_api):
    first = both_api.post("/patients", maja("N300123", "NORTH")).json()
    resp = both_api.post("/patients", maja("N999", "NORTH"))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["outcome"] == "review" and body["id"] != first["id"]
    assert body["candidates"][0]["patient_id"] == first["id"]
    assert Patient.objects.count() == 2
    decision = MatchDecision.objects.get(pk=body["decision"])
    assert str(decision.candidate_id) == first["id"] and decision.probability >= 0.98


def test_someone_new_is_created(both_api):
    both_api.post("/patients", maja("N300123", "NORTH"))
    other = {"names": [{"family": "Okonjo", "given": "Ife"}], "birth_date": "2001-02-03",
             "sex": "male", "identifiers": [{"kind": "MR", "value": "N5", "facility": "NORTH"}]}  # fmt: skip
    body = both_api.post("/patients", other).json()
    assert body["outcome"] == "created" and Patient.objects.count() == 2


def test_overriding_the_thresholds_needs_a_reason(both_api):
    first = both_api.post("/patients", maja("N300123", "NORTH")).json()
    refused = both_api.post(
        "/patients", {**maja("S77", "SOUTH"), "create_anyway": True}
    )
    assert refused.status_code == 422, refused.content
    assert refused.json()["field"] == "reason"
    assert Patient.objects.count() == 1  # nothing written
    forced = both_api.post("/patients", {**maja("S77", "SOUTH"), "create_anyway": True,
                                         "reason": "patient says she is not this Maja"})  # fmt: skip
    assert forced.status_code == 201
    # created, but a pair this likely still goes to the duplicate worklist
    assert forced.json()["outcome"] == "review" and forced.json()["id"] != first["id"]
    assert MatchDecision.objects.get(pk=forced.json()["decision"]).manual


def test_the_registrar_can_choose_the_record_to_link(both_api, facility):
    kept = factories.patient(facility=facility, family="Lindquist", given="Maya",
                             birth_date=date(1972, 11, 30))  # fmt: skip
    reg = {
        **maja("S77", "SOUTH"),
        "link_to": str(kept.pk),
        "reason": "photo id matches",
    }
    body = both_api.post("/patients", reg).json()
    assert body["outcome"] == "linked" and body["id"] == str(kept.pk)
    assert kept.identifiers.filter(kind="MR", value="S77").exists()
    assert kept.identifiers.filter(kind="SS", last4="4321").exists()


def test_linking_to_a_record_with_another_mrn_there_is_refused(both_api, facility):
    kept = factories.patient(facility=facility, family="Lindqvist", given="Maja",
                             birth_date=date(1972, 11, 30), mrn="N1")  # fmt: skip
    reg = {**maja("N2", "NORTH"), "link_to": str(kept.pk), "reason": "same person"}
    resp = both_api.post("/patients", reg)
    assert resp.status_code == 422
    assert "already has another Medical record number" in resp.json()["message"]
    assert not kept.identifiers.filter(value="N2").exists()
    assert Patient.objects.count() == 1 and not MatchDecision.objects.exists()


def test_thresholds_are_per_facility(both_api, settings):
    settings.MPI_THRESHOLDS = {"*": {"auto_link": 0.98, "review": 0.5},
                               "SOUTH": {"auto_link": 1.0, "review": 0.4}}  # fmt: skip
    both_api.post("/patients", maja("N300123", "NORTH"))
    body = both_api.post("/patients", maja("S77", "SOUTH")).json()
    assert body["outcome"] == "review" and Patient.objects.count() == 2
    assert MatchDecision.objects.get(pk=body["decision"]).thresholds["auto_link"] == 1.0


def test_a_bad_thresholds_setting_is_named(settings, facility):
    settings.MPI_THRESHOLDS = {"*": {"auto_link": 0.5, "review": 0.9}}
    with pytest.raises(ImproperlyConfigured, match="review must be at most auto_link"):
        registration.thresholds_for(facility)
    settings.MPI_THRESHOLDS = {"NORTH": {"link": 0.9}}
    with pytest.raises(ImproperlyConfigured, match="'NORTH'"):
        registration.thresholds_for(facility)


def test_placeholder_demographics_never_link(facility, other_facility):
    def unknown(mrn, fac):
        return PatientIn(names=[NameIn(family="UNKNOWN", given="BABY BOY")],
                         birth_date=date(1900, 1, 1), sex="male",
                         identifiers=[IdentifierIn(kind="MR", value=mrn, facility=fac),
                                      IdentifierIn(kind="SS", value="999-99-9999")])  # fmt: skip

    first = registration.register(
        actor=SYSTEM, data=unknown("N1", facility), source="api"
    )
    second = registration.register(actor=SYSTEM, data=unknown("S1", other_facility),
                                   source="api")  # fmt: skip
    assert second.outcome == "created" and second.patient.pk != first.patient.pk


def test_an_a04_for_a_known_person_links_the_new_facilitys_mrn(
    facility, other_facility
):
    assert handle(adt(mrn="N1", facility="NORTH", control="C1")).code == "AA"
    ack = handle(adt(mrn="S9", facility="SOUTH", control="C2"))
    assert ack.code == "AA", ack.text
    patient = Patient.objects.get()
    assert set(patient.identifiers.filter(kind="MR").values_list("value", flat=True)) == {
        "N1", "S9"}  # fmt: skip
    decision = MatchDecision.objects.latest("decided_at")
    assert decision.source == "hl7" and decision.outcome == "linked"
    assert decision.decided_by == "hl7:REGAPP"
    assert patient.encounters.count() == 2  # both visits on the one chart


def test_review_of_a_wrong_automatic_link_raises_an_overlay_flag(both_api, facility):
    both_api.post("/patients", maja("N300123", "NORTH"))
    linked = both_api.post("/patients", maja("S77", "SOUTH")).json()
    sample = registration.sample_for_review(size=5, seed=1)
    assert [str(d.pk) for d in sample] == [linked["decision"]]
    reviewer = Actor(user=factories.user("rev", "him_manager", facilities=[facility]),
                     channel="web")  # fmt: skip
    with pytest.raises(ValidationFailed, match="say what is wrong"):
        registration.review_link(actor=reviewer, decision=sample[0], verdict="wrong")
    registration.review_link(actor=reviewer, decision=sample[0], verdict="wrong",
                             note="different mothers' names on file")  # fmt: skip
    flag = OverlayFlag.objects.get(kind=registration.WRONG_LINK)
    assert str(flag.patient_id) == linked["id"] and flag.status == "open"
    assert flag.evidence["identifiers_added"] == ["S77"]
    assert registration.sample_for_review(size=5, seed=1) == []  # reviewed ones leave
    with pytest.raises(ValidationFailed, match="already reviewed"):
        registration.review_link(actor=reviewer, decision=sample[0], verdict="correct")


def test_the_creator_of_a_record_is_kept(both_api):
    body = both_api.post("/patients", maja("N300123", "NORTH")).json()
    patient = Patient.objects.get(pk=body["id"])
    assert (patient.created_by, patient.created_via) == ("reg2", "api")


def test_a_registrar_cannot_link_to_a_record_they_cannot_see(him, other_facility):
    him_api = api_for(him)
    theirs = factories.patient(facility=other_facility, family="Lindqvist",
                               given="Maja", birth_date=date(1972, 11, 30))  # fmt: skip
    reg = {**maja("N2", "NORTH"), "link_to": str(theirs.pk), "reason": "same person"}
    resp = him_api.post("/patients", reg)
    assert resp.status_code == 403 and resp.json()["field"] == "link_to"
    assert not theirs.identifiers.filter(value="N2").exists()
    assert Patient.objects.count() == 1


def test_the_mpi_dashboard_over_the_api_gives_counts(both_api, facility):
    from tests.api.conftest import api_for as _api

    both_api.post("/patients", maja("N300123", "NORTH"))
    both_api.post("/patients", maja("S77", "SOUTH"))  # linked
    both_api.post("/patients", maja("N999", "NORTH"))  # review
    manager = _api(factories.user("mgr", "him_manager", facilities=[facility]))
    body = manager.get("/mpi/dashboard").json()
    assert body["links"]["linked"] == 1 and body["links"]["to_review_today"] == 1
    assert body["worklist"]["registrations"] == 1
    north = next(r for r in body["facilities"] if r["key"] == "NORTH")
    assert (north["records"], north["suspected"]) == (2, 1) and north["rate"] == 0.5
    assert both_api.get("/mpi/dashboard").status_code == 200  # HIM specialist
