"""Authorizations checked element by element (R-AUTH-2/3/5/6/7/8, R-P2-2), the
legal basis of a request (R-ACC-3/5, R-AUTH-1, R-DISC-2/3/4/5) and the rules for
sensitive records (R-PN-2/3, R-P2-3/4/5/6, R-STATE-2)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import ValidationFailed
from recordroom.release import authorizations as au
from tests.factories import facility_today
from tests.release.authorizing import authorize, elements, item

TODAY = facility_today()


@pytest.fixture
def attorney(make_request, patient):
    return make_request(patient, requester_type="attorney", requester_name="Dana Lee",
                        requester_organization="Lee & Park LLP")  # fmt: skip


def rules(defects):
    return [d.rule for d in defects]


def test_r_auth_2_each_missing_core_element_is_a_named_defect(roi_actor, attorney):
    auth = authorize(roi_actor, attorney, missing=("recipient", "purpose"))
    defects = au.check_authorization(auth, on=TODAY)
    assert rules(defects) == ["R-AUTH-2(3)", "R-AUTH-2(4)"]
    assert [d.element for d in defects] == ["recipient", "purpose"]
    assert "to receive the information" in defects[0].message
    event = AuditEvent.objects.filter(action="release.authorization").latest("id")
    detail = json.loads(event.detail)
    assert detail["kind"] == "hipaa" and detail["defects"] == [
        "R-AUTH-2(3) recipient", "R-AUTH-2(4) purpose"]  # fmt: skip
    assert auth.elements["recipient"] == {"present": False, "note": ""}


def test_r_auth_2_a_representative_signing_must_describe_their_authority(
    roi_actor, attorney
):
    auth = authorize(roi_actor, attorney, missing=("representative_authority",))
    assert au.check_authorization(auth, on=TODAY) == []  # the patient signed
    au.update_authorization(actor=roi_actor, auth=auth, representative_signed=True)
    [defect] = au.check_authorization(auth, on=TODAY)
    assert (
        defect.rule == "R-AUTH-2(6)" and defect.element == "representative's authority"
    )
    au.update_authorization(actor=roi_actor, auth=auth,
                            elements={"representative_authority": {
                                "present": True, "note": "durable POA"}})  # fmt: skip
    assert au.check_authorization(auth, on=TODAY) == []
    assert auth.elements["representative_authority"]["note"] == "durable POA"


def test_r_auth_2_unknown_element_codes_are_refused_by_name(roi_actor, attorney):
    with pytest.raises(ValidationFailed, match="unknown element.*witness") as exc:
        au.record_authorization(actor=roi_actor, patient=attorney.patient,
                                request=attorney, kind="hipaa",
                                elements={"witness": True, "recipient": True})  # fmt: skip
    assert "redisclosure_statement" in exc.value.message  # the checklist is listed


def test_r_auth_3_missing_required_statements_are_defects(roi_actor, attorney):
    auth = authorize(roi_actor, attorney, missing=(
        "revocation_statement", "conditioning_statement", "redisclosure_statement"))  # fmt: skip
    defects = au.check_authorization(auth, on=TODAY)
    assert rules(defects) == ["R-AUTH-3(1)", "R-AUTH-3(2)", "R-AUTH-3(3)"]
    assert "redisclosed by the recipient" in defects[2].message


def test_r_auth_5_expired_authorization_is_refused(roi_actor, attorney):
    auth = authorize(roi_actor, attorney, expires_on=TODAY - timedelta(days=1))
    check = au.check_basis(attorney)
    assert not check.ok and rules(check.defects) == ["R-AUTH-5(i)"]
    assert check.defects[0].element == "expiration date"
    # valid on the day it expires, not the day after
    assert au.check_authorization(auth, on=TODAY - timedelta(days=1)) == []
    au.update_authorization(actor=roi_actor, auth=auth, expires_on=None,
                            expiration_event="end of the lawsuit",
                            expiration_event_occurred=True)  # fmt: skip
    [defect] = au.check_authorization(auth, on=TODAY)
    assert (
        defect.element == "expiration event" and "end of the lawsuit" in defect.message
    )


def test_r_auth_5_an_expiration_with_neither_date_nor_event_is_missing(
    roi_actor, attorney
):
    auth = authorize(roi_actor, attorney, expires_on=None)
    [defect] = au.check_authorization(auth, on=TODAY)
    assert defect.rule == "R-AUTH-2(5)" and defect.element == "expiration date or event"
    au.update_authorization(actor=roi_actor, auth=auth, expiration_event="none")
    assert au.check_basis(attorney).ok


def test_r_auth_5_known_false_and_every_defect_at_once(roi_actor, attorney):
    authorize(roi_actor, attorney, missing=("signature",), known_false=True,
              expires_on=TODAY - timedelta(days=3))  # fmt: skip
    check = au.check_basis(attorney)
    assert rules(check.defects) == ["R-AUTH-5(i)", "R-AUTH-2(6)", "R-AUTH-5(v)"]


def test_r_auth_6_psychotherapy_authorization_combines_only_with_another(
    roi_actor, attorney
):
    auth = authorize(roi_actor, attorney, kind="psychotherapy",
                     compound_with="authorization: general release form")  # fmt: skip
    [defect] = au.check_authorization(auth, on=TODAY)
    assert defect.rule == "R-AUTH-6(ii)" and "only with another psychotherapy" in (
        defect.message)  # fmt: skip
    au.update_authorization(actor=roi_actor, auth=auth, compound_with="psychotherapy")
    assert au.check_authorization(auth, on=TODAY) == []
    general = authorize(roi_actor, attorney, compound_with="authorization")
    assert au.check_authorization(general, on=TODAY) == []  # R-AUTH-6(iii)
    au.update_authorization(actor=roi_actor, auth=general, compound_with="other")
    assert rules(au.check_authorization(general, on=TODAY)) == ["R-AUTH-6(iii)"]
    with pytest.raises(ValidationFailed, match="unknown combination 'intake'"):
        au.update_authorization(actor=roi_actor, auth=general, compound_with="intake")


def test_r_auth_7_conditioning_on_signing_is_a_defect_outside_its_exceptions(
    roi_actor, attorney
):
    auth = authorize(roi_actor, attorney, conditions_treatment=True)
    assert rules(au.check_authorization(auth, on=TODAY)) == ["R-AUTH-7"]
    au.update_authorization(actor=roi_actor, auth=auth,
                            conditioning_exception="third-party-exam")  # fmt: skip
    assert au.check_authorization(auth, on=TODAY) == []
    notes = authorize(roi_actor, attorney, kind="psychotherapy",
                      conditions_treatment=True,
                      conditioning_exception="plan-enrollment")  # fmt: skip
    assert rules(au.check_authorization(notes, on=TODAY)) == ["R-AUTH-7"]
    # combined with another authorization while conditioning: R-AUTH-6(iii) too
    au.update_authorization(actor=roi_actor, auth=auth, compound_with="authorization")
    assert rules(au.check_authorization(auth, on=TODAY)) == ["R-AUTH-6(iii)"]


def test_r_auth_8_a_written_revocation_blocks_releases_after_it(roi_actor, attorney):
    auth = authorize(roi_actor, attorney)
    assert au.check_basis(attorney).ok
    with pytest.raises(ValidationFailed, match="in writing"):
        au.revoke(actor=roi_actor, auth=auth, at=timezone.now(), note=" ")
    with pytest.raises(ValidationFailed, match="in the future"):
        au.revoke(actor=roi_actor, auth=auth, at=timezone.now() + timedelta(days=1),
                  note="letter")  # fmt: skip
    au.revoke(actor=roi_actor, auth=auth, at=timezone.now(),
              note="patient's letter dated today")  # fmt: skip
    check = au.check_basis(attorney)
    assert not check.ok and check.defects[0].rule == "R-AUTH-5(iii)"
    assert "R-AUTH-8" in check.defects[0].message
    # what was done before the revocation stands
    assert au.check_authorization(auth, on=TODAY - timedelta(days=1)) == []
    event = AuditEvent.objects.filter(action="release.authorization").latest("id")
    assert "revoked_at" in json.loads(event.detail)
    with pytest.raises(ValidationFailed, match="already revoked"):
        au.revoke(actor=roi_actor, auth=auth, at=timezone.now(), note="again")


def test_r_auth_1_a_third_party_needs_a_valid_authorization(roi_actor, attorney):
    check = au.check_basis(attorney)
    assert not check.ok and rules(check.defects) == ["R-AUTH-1"]
    assert "attorney" in check.defects[0].message
    auth = authorize(roi_actor, attorney)
    check = au.check_basis(attorney)
    assert check.ok and check.authorization == auth and check.rule == "R-AUTH-1"


def test_r_auth_1_an_authorization_for_notes_only_does_not_release_the_rest(
    roi_actor, attorney
):
    authorize(roi_actor, attorney, kind="psychotherapy")
    gate = au.gate_for(attorney)
    assert gate(["PSYTHPN"]).include
    assert gate([]) == au.Gate(False, "R-AUTH-1", gate([]).reason)


def test_r_acc_3_access_waits_for_the_requesters_identity(make_request, patient):
    req = make_request(patient)
    check = au.check_basis(req)
    assert not check.ok and rules(check.defects) == ["R-ACC-3"]
    req.identity_verified = True
    assert au.check_basis(req).ok and "right of access" in au.check_basis(req).basis


def test_r_acc_5_a_directive_is_written_signed_and_names_where_to_send(
    make_request, patient, roi_actor
):
    req = make_request(patient, requester_type="directive", requester_name="Dr Ames",
                       identity_verified=True, verification_method="ID at desk")  # fmt: skip
    assert rules(au.check_basis(req).defects) == ["R-ACC-5"]
    authorize(roi_actor, req, kind="directive", missing=("destination",))
    [defect] = au.check_basis(req).defects
    assert defect.element == "where to send it"
    authorize(roi_actor, req, kind="directive")
    assert au.check_basis(req).ok
    req.format = "paper"  # Ciox v. Azar: a directive covers electronic copies only
    assert au.check_basis(req).defects[0].element == "electronic copy"


def test_r_p2_2_a_part2_consent_has_all_nine_elements(roi_actor, attorney):
    consent = authorize(roi_actor, attorney, kind="part2", missing=(
        "patient_name", "date", "tpo_redisclosure_statement", "tpo_refusal_statement"))  # fmt: skip
    assert rules(au.check_authorization(consent, on=TODAY)) == [
        "R-P2-2(1)",
        "R-P2-2(9)",
    ]
    assert len(elements("part2")) == 11  # nine elements and two TPO statements
    au.update_authorization(actor=roi_actor, auth=consent, tpo=True,
                            elements={"patient_name": True, "date": True})  # fmt: skip
    assert [d.element for d in au.check_authorization(consent, on=TODAY)] == [
        "TPO redisclosure statement", "consequences of refusing"]  # fmt: skip
    with pytest.raises(ValidationFailed, match="R-P2-3"):
        authorize(roi_actor, attorney, tpo=True)  # only a Part 2 consent is TPO


def test_r_p2_2_part2_records_need_a_part2_consent_not_a_hipaa_form(
    roi_actor, attorney
):
    authorize(roi_actor, attorney, covers=["SUD"])
    gate = au.sensitive_gate(attorney, ["SUD"])
    assert not gate.include and gate.rule == "R-P2-2"
    authorize(roi_actor, attorney, kind="part2")
    assert au.sensitive_gate(attorney, ["SUD"]).include
    assert au.sensitive_gate(attorney, ["ETH"]).include


def test_r_p2_3_a_tpo_consent_releases_for_treatment_only(
    roi_actor, attorney, make_request, patient
):
    authorize(roi_actor, attorney)
    authorize(roi_actor, attorney, kind="part2", tpo=True)
    gate = au.sensitive_gate(attorney, ["SUD"])
    assert not gate.include and "R-P2-3" in gate.reason
    provider = make_request(
        patient, requester_type="provider", requester_name="Dr Ames"
    )
    assert au.sensitive_gate(provider, ["SUD"]).rule == "R-P2-2"  # no consent at all
    authorize(roi_actor, provider, kind="part2", tpo=True)
    assert au.sensitive_gate(provider, ["SUD"]).include


def test_r_p2_4_sud_counseling_notes_need_their_own_consent(roi_actor, attorney):
    authorize(roi_actor, attorney, kind="part2")
    authorize(roi_actor, attorney, kind="psychotherapy")
    gate = au.sensitive_gate(attorney, ["SUD", "PSYTHPN"])
    assert not gate.include and gate.rule == "R-P2-4"
    notes = authorize(roi_actor, attorney, kind="part2-notes",
                      compound_with="authorization")  # fmt: skip
    assert rules(au.check_authorization(notes, on=TODAY)) == ["R-P2-4"]
    au.update_authorization(actor=roi_actor, auth=notes, compound_with="")
    assert au.sensitive_gate(attorney, ["SUD", "PSYTHPN"]).include


def test_r_p2_5_a_release_with_part2_records_carries_the_notice(roi_actor, attorney):
    assert au.part2_notice_needed(["HIV", "SUD"]) and not au.part2_notice_needed(
        ["HIV"]
    )
    authorize(roi_actor, attorney)
    item(attorney, labels=[], position=0)
    assert au.check_basis(attorney).part2_notice is False
    item(attorney, labels=["ETH"], included=False, position=1)
    assert au.check_basis(attorney).part2_notice is False  # left out: no notice
    item(attorney, labels=["SUD"], position=2)
    assert au.check_basis(attorney).part2_notice is True
    assert "42 CFR part 2 prohibits" in au.PART2_NOTICE


SUBPOENA_NOTICE = {
    "assurance": "notice", "written_statement": True,
    "documents": ["notice letter of 2026-01-05 and certified mail receipt"],
    "notice_sent_on": "2026-01-05", "notice_sufficient": True,
    "objection_deadline": "2026-01-25", "objections_resolved": True,
}  # fmt: skip


def test_r_p2_6_subpoena_alone_never_releases_part2(make_request, patient, roi_actor):
    req = make_request(patient, requester_type="subpoena", requester_name="Ortiz LLP",
                       legal_detail=dict(SUBPOENA_NOTICE))  # fmt: skip
    assert au.check_basis(req, on=date(2026, 2, 1)).ok  # R-DISC-3 assurance complete
    gate = au.sensitive_gate(req, ["SUD"])
    assert (
        not gate.include and gate.rule == "R-P2-6" and "subpoena alone" in gate.reason
    )
    req.legal_detail = {**SUBPOENA_NOTICE, "signed_by_judge": True}  # an order ...
    assert au.sensitive_gate(req, ["SUD"]).rule == "R-P2-6"  # ... but not a Part 2 one
    authorize(roi_actor, req, kind="part2", tpo=True)  # a TPO consent is not enough
    assert not au.sensitive_gate(req, ["ETH"]).include
    req.legal_detail = {**SUBPOENA_NOTICE, "part2_court_order": True}
    assert au.sensitive_gate(req, ["SUD"]).include


def test_r_disc_2_a_court_order_is_signed_by_a_judge(make_request, patient, settings):
    req = make_request(patient, requester_type="court-order", requester_name="Court")
    assert rules(au.check_basis(req).defects) == ["R-DISC-2"]
    req.legal_detail = {"order_signed_by_judge": True}
    assert au.check_basis(req).ok
    subpoena = make_request(patient, requester_type="subpoena", requester_name="Court",
                            legal_detail={"signed_by_judge": True})  # fmt: skip
    assert au.check_basis(subpoena).rule == "R-DISC-2"  # the guidance switch, on
    settings.ROI_JUDGE_SUBPOENA_IS_ORDER = False
    check = au.check_basis(subpoena)
    assert not check.ok and check.rule == "R-DISC-3"


def test_r_disc_2_an_order_releases_only_the_sensitive_records_it_names(
    make_request, patient
):
    req = make_request(patient, requester_type="court-order", requester_name="Court",
                       legal_detail={"order_signed_by_judge": True})  # fmt: skip
    assert au.sensitive_gate(req, ["HIV"]).rule == "R-STATE-2"
    assert au.sensitive_gate(req, ["PSYTHPN"]).rule == "R-PN-2"
    req.legal_detail["covers"] = ["HIV", "PSYTHPN"]
    assert au.sensitive_gate(req, ["HIV"]).include
    assert au.sensitive_gate(req, ["PSYTHPN"]).include  # required by law


def test_r_disc_3_a_subpoena_is_blocked_until_its_assurance_is_complete(
    make_request, patient
):
    req = make_request(patient, requester_type="subpoena", requester_name="Ortiz LLP")
    on = date(2026, 2, 1)
    [defect] = au.check_basis(req, on=on).defects
    assert defect.rule == "R-DISC-3" and defect.element == "satisfactory assurance"
    req.legal_detail = {"assurance": "notice"}
    assert [d.element for d in au.check_basis(req, on=on).defects] == [
        "written statement", "documentation", "notice to the patient",
        "content of the notice", "end of the objection period", "objections"]  # fmt: skip
    req.legal_detail = dict(SUBPOENA_NOTICE)
    [defect] = au.check_basis(req, on=date(2026, 1, 25)).defects
    assert defect.element == "objection period not over" and "January 25, 2026" in (
        defect.message)  # fmt: skip
    assert au.check_basis(req, on=on).ok
    req.legal_detail = {"assurance": "qpo", "written_statement": True,
                        "documents": ["stipulated QPO"], "qpo": "filed"}  # fmt: skip
    assert au.check_basis(req, on=on).ok
    req.legal_detail = {"assurance": "ce-efforts", "ce_effort": "qpo"}
    assert rules(au.check_basis(req, on=on).defects) == ["R-DISC-3"]
    req.legal_detail["qpo"] = "requested"
    assert au.check_basis(req, on=on).ok


def test_r_disc_3_subpoenas_do_not_release_state_protected_records(
    make_request, patient, roi_actor
):
    req = make_request(patient, requester_type="subpoena", requester_name="Ortiz LLP",
                       legal_detail={**SUBPOENA_NOTICE, "covers": ["MH"]})  # fmt: skip
    gate = au.sensitive_gate(req, ["MH"])
    assert not gate.include and "subpoena" in gate.reason
    assert au.sensitive_gate(req, ["PSYTHPN"]).rule == "R-PN-2"
    authorize(roi_actor, req, covers=["MH"])
    assert au.sensitive_gate(req, ["MH"]).include


def test_r_disc_4_law_enforcement_needs_process_or_review(make_request, patient):
    req = make_request(patient, requester_type="law-enforcement",
                       requester_name="Det. Rivera", identity_verified=True,
                       verification_method="badge",
                       legal_detail={"process": "warrant"})  # fmt: skip
    assert au.check_basis(req).ok
    req.legal_detail = {"process": "administrative-request", "relevant_material": True}
    assert [d.element for d in au.check_basis(req).defects] == [
        "specific limited", "deidentified not usable"]  # fmt: skip
    req.legal_detail = {"process": "identify-locate"}
    [defect] = au.check_basis(req).defects
    assert defect.element == "privacy officer review" and "never DNA" in defect.message
    req.legal_detail.update(privacy_officer_approved=True, approved_by="K. Osei")
    assert au.check_basis(req).ok
    req.legal_detail = {}
    assert au.check_basis(req).defects[0].element == "legal process"


def test_r_disc_5_public_health_names_its_category(make_request, patient):
    req = make_request(patient, requester_type="public-health",
                       requester_name="County Health Dept", identity_verified=True,
                       verification_method="letterhead")  # fmt: skip
    assert rules(au.check_basis(req).defects) == ["R-DISC-5"]
    req.legal_detail = {"public_health_basis": "i", "authority": "County Health"}
    assert au.check_basis(req).ok
    assert au.sensitive_gate(req, ["SUD"]).rule == "R-P2-9"
    req.legal_detail["public_health_basis"] = "v"
    assert au.check_basis(req).defects[0].element == "employer conditions"


def test_r_pn_2_psychotherapy_notes_need_their_own_authorization(
    roi_actor, attorney, make_request, patient
):
    authorize(roi_actor, attorney, covers=["PSYTHPN", "MH"])
    gate = au.sensitive_gate(attorney, ["PSYTHPN"])
    assert not gate.include and gate.rule == "R-PN-2"
    provider = make_request(
        patient, requester_type="provider", requester_name="Dr Ames"
    )
    assert au.sensitive_gate(provider, ["PSYTHPN"]).rule == "R-PN-2"  # treatment too
    authorize(roi_actor, attorney, kind="psychotherapy")
    assert au.sensitive_gate(attorney, ["PSYTHPN"]).include
    assert au.sensitive_gate(attorney, ["PSYTHPN", "MH"]).include


def test_r_pn_3_psychotherapy_notes_are_outside_the_right_of_access(
    make_request, patient
):
    req = make_request(patient, identity_verified=True, verification_method="ID")
    gate = au.sensitive_gate(req, ["PSYTHPN"])
    assert not gate.include and gate.rule == "R-PN-3" and "R-ACC-7(i)" in gate.reason
    assert au.sensitive_gate(req, ["SUD", "HIV"]).include  # the patient's own records


def test_r_state_2_protected_categories_go_only_where_named(
    roi_actor, attorney, make_request, patient
):
    authorize(roi_actor, attorney, covers=["HIV"])
    assert au.sensitive_gate(attorney, ["HIV"]).include
    gate = au.sensitive_gate(attorney, ["HIV", "GDIS"])
    assert not gate.include and gate.rule == "R-STATE-2"
    assert gate.reason.startswith("Genetic disease information is left out")
    provider = make_request(
        patient, requester_type="provider", requester_name="Dr Ames"
    )
    assert au.sensitive_gate(provider, ["GDIS", "MH"]).include  # treatment
    parent = make_request(patient, requester_type="representative",
                          requester_name="Ann Nunez", representative_authority="mother")  # fmt: skip
    assert au.sensitive_gate(parent, ["HIV"]).include
    assert au.sensitive_gate(parent, ["MINCC"]).rule == "R-STATE-2"


@pytest.mark.parametrize("code", ["research-waiver", "irb-waiver"])
def test_r_disc_6_research_under_a_documented_waiver_needs_no_authorization(
    make_request, patient, code
):
    req = make_request(patient, requester_type="research", requester_name="Study 12",
                       legal_basis=code, entire_record=False,
                       date_from=TODAY - timedelta(days=365), date_to=TODAY)  # fmt: skip
    check = au.check_basis(req)
    assert not check.ok and rules(check.defects) == ["R-DISC-6"]
    req.legal_detail = {"waiver_documented": True}
    assert au.check_basis(req).ok


def test_a_decompression_bomb_scan_of_a_signed_form_is_refused(roi_actor, attorney):
    from tests.api.test_upload_limits import _png_header_only

    with pytest.raises(ValidationFailed, match=(
        r"file 'the signed form \(scan\)': the image is 3,600,000,000 pixels"
    )):  # fmt: skip
        authorize(roi_actor, attorney, scan=_png_header_only(60_000, 60_000))
