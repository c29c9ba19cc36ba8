"""Staff pages speak the department's language (DESIGN.md rule 11): no setting
names, no matcher internals, no raw identifier-system URIs, no Python bytes, and no
typos ("a attorney", "hipaa", "MRN MRN", a rule code printed twice)."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.text import with_article
from recordroom.mpi import display
from recordroom.mpi.models import OverlayFlag, PatientIdentifier
from recordroom.mpi.services import IdentifierIn, build_identifier
from recordroom.records.models import DocumentType
from recordroom.release.disclosures import resolve_basis
from recordroom.release.legal import LEGAL_DETAIL_KEYS
from recordroom.release.review import reviewer_allowed
from tests import factories

from .conftest import signed_in
from .test_register import maja
from .test_release_desk import make_request

# What a staff page must never show, whatever the page.
NEVER = [
    (re.compile(r"RECORDROOM_[A-Z_]+"), "a setting's environment variable"),
    (re.compile(r"Jaro|Winkler|λ"), "the matcher's internals"),
    (
        re.compile(r"\b(?:birth_date|family_name|given_name|multiple_birth)\b"),
        "a snake_case field name",
    ),  # fmt: skip
    (
        re.compile(r"https?://hl7\.org/fhir/sid/|urn:(?:oid|recordroom):"),
        "a raw identifier-system URI",
    ),  # fmt: skip
    (re.compile(r"\bb'|\bb\""), "Python bytes"),
    (re.compile(r"\ba [aeiou]\w+", re.I), "'a' before a vowel"),
    (re.compile(r"hipaa"), "'hipaa' in lower case"),
    (re.compile(r"\bMRN\s+MRN\b"), "'MRN MRN'"),
]


def visible(html: str) -> str:
    """The page's text as a reader sees it (no tags, scripts or attributes)."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"(?s)<[^>]+>", " ", html))


def assert_plain(response) -> str:
    text = visible(response.content.decode())
    found = [f"{why}: {m.group(0)!r}" for rx, why in NEVER for m in rx.finditer(text)]
    assert found == [], found
    return text


@pytest.fixture
def staff(db, facility, other_facility):
    him = factories.user("words.him", "him_specialist",
                         facilities=[facility, other_facility])  # fmt: skip
    return signed_in(him)


def test_registration_evidence_names_fields_and_levels_in_words(
    staff, facility, other_facility
):
    staff.post("/patients/new", {**maja(facility), "action": "register"})
    close = maja(other_facility, "S77", family="Lindqvst", given="Maya")
    text = assert_plain(staff.post("/patients/new", {**close, "action": "check"}))
    assert "Date of birth" in text and "Surname" in text
    assert "spelled almost the same" in text or "spelled similarly" in text


def test_chart_names_identifier_systems_instead_of_uris(staff, facility):
    patient = factories.patient(facility=facility, family="Okoro", given="Ada",
                                ssn="900-12-3456")  # fmt: skip
    build_identifier(patient, IdentifierIn(
        kind="MB", value="LHP512966898",
        system="urn:recordroom:demo:payer:lakeshore-health-plan")).save()  # fmt: skip
    text = assert_plain(staff.get(f"/patients/{patient.pk}"))
    assert "Lakeshore Health Plan" in text
    assert re.search(r"\*\*\*-\*\*-3456 SSN", text)


def test_an_upload_of_an_unknown_format_names_its_bytes_without_python_syntax(
    staff, facility
):
    patient = factories.patient(facility=facility, family="Byte", given="Bea")
    resp = staff.post(reverse("web:upload", kwargs={"patient_id": patient.pk}), {
        "doc_type": DocumentType.objects.get(code="CORR").pk,
        "facility": facility.pk, "service_date": "2024-01-02", "status": "final",
        "file": SimpleUploadedFile("x.bin", b"MZ\x90\x00\x03\x00\x00\x00rest",
                                   "application/octet-stream")})  # fmt: skip
    text = assert_plain(resp)
    assert "4D 5A 90 00 03 00 00 00" in text


def test_overlay_page_says_mrn_once_and_the_kind_in_words(staff, facility):
    chart = factories.patient(facility=facility, family="Petrov", given="Ivan",
                              ssn="900-44-1111")  # fmt: skip
    flag = OverlayFlag.objects.create(patient=chart, kind="two-ssns", summary="x")
    text = assert_plain(staff.get(f"/identity/overlays/{flag.pk}"))
    assert "Two SSNs" in text
    assert "two-ssns" not in assert_plain(staff.get("/identity/overlays"))


def test_release_pages_name_no_setting_no_lower_case_hipaa_no_rule_twice(
    db, facility, patient
):
    roi = factories.user("words.roi", "roi_specialist", facilities=[facility])
    client = signed_in(roi)
    subpoena = make_request(roi, patient, requester_type="subpoena",
                            requester_name="Doe v. Roe", legal_detail={},
                            entire_record=False, date_from=date(2025, 1, 1),
                            date_to=date(2025, 12, 31))  # fmt: skip
    text = assert_plain(client.get(f"/release/{subpoena.pk}"))
    assert "release does not wait for payment" in text
    assert "Satisfactory assurance" in text
    assert "Satisfactory assurance (R-DISC-3)" not in text  # the basis names it
    new = client.get(f"/release/{subpoena.pk}/authorizations/new?kind=hipaa")
    assert "Record a HIPAA authorization" in assert_plain(new)


def test_deny_grounds_are_words_with_their_rule(db, facility, patient):
    roi = factories.user("words.roi2", "roi_specialist", facilities=[facility])
    req = make_request(roi, patient, identity_verified=True,
                       verification_method="ID")  # fmt: skip
    text = assert_plain(signed_in(roi).get(f"/release/{req.pk}"))
    assert "Harm to other (R-ACC-8(ii), reviewable)" in text


def test_release_desk_messages_name_no_setting(settings):
    settings.ROI_SAME_PERSON_QA = False
    packet = SimpleNamespace(built_by="roi1", release_number="R-0001")
    why = reviewer_allowed("roi1", packet)
    assert "a second person must review it" in why and "RECORDROOM_" not in why
    assert not [k for k, v in LEGAL_DETAIL_KEYS.items() if "RECORDROOM_" in v]


def test_a_disclosure_without_a_basis_asks_about_an_attorney():
    with pytest.raises(ValidationFailed) as exc:
        resolve_basis("attorney", "")
    assert "records went to an attorney" in exc.value.message


def test_one_mapping_gives_every_display_name(db, facility):
    assert display.system_label("http://hl7.org/fhir/sid/us-ssn") == "SSN"
    assert display.system_label("urn:x", facility) == "MRN (NORTH)"
    assert display.system_label("urn:oid:1.2.3.4") == "another system"
    assert display.comparison_label("birth_date") == "Date of birth"
    assert display.level_label("close (Jaro-Winkler >= 0.92)") == (
        "spelled almost the same")  # fmt: skip
    mrn = PatientIdentifier(kind="MR", value="N1", facility=facility, system="urn:x")
    assert display.identifier_label(mrn) == "MRN N1 (NORTH)"
    assert [with_article(w) for w in ("attorney", "payer", "HIPAA form", "SSN")] == [
        "an attorney", "a payer", "a HIPAA form", "an SSN"]  # fmt: skip
