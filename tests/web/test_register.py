"""Registering a patient in the web app, searching before creating: the candidates
with their evidence and what the thresholds will do, then register, use a chosen
record or create anyway; and the same in real Chromium."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages

from recordroom.audit.models import AuditEvent
from recordroom.mpi.linkage.models import MatchDecision
from recordroom.mpi.models import Patient, PatientIdentifier
from tests import factories

from .conftest import PASSWORD, signed_in
from .test_browser import ARTIFACTS
from .test_browser import chromium as chromium  # noqa: F401 (fixtures)
from .test_browser import server as server  # noqa: F401

URL = "/patients/new"


@pytest.fixture
def registrar(db, facility, other_facility):
    user = factories.user("reg.web", "him_specialist",
                          facilities=[facility, other_facility])  # fmt: skip
    return signed_in(user)


def maja(facility, mrn="N300123", **over) -> dict[str, str]:
    form = {
        "family": "Lindqvist", "given": "Maja", "middle": "", "sex": "female",
        "birth_date": "1972-11-30", "mrn": mrn, "facility": str(facility.pk),
        "ssn": "987-65-4321", "line1": "7 Birch Ave", "city": "Duluth",
        "state": "MN", "postal_code": "55802", "phone": "218-555-0199",
    }  # fmt: skip
    return {**form, **over}


def _written() -> tuple[int, int, int]:
    return (Patient.objects.count(), PatientIdentifier.objects.count(),
            MatchDecision.objects.count())  # fmt: skip


def _registered(client, facility) -> Patient:
    """Maja registered at NORTH through the page (no candidates: created)."""
    resp = client.post(URL, {**maja(facility), "action": "register"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    return Patient.objects.get()


def _message(resp) -> str:
    return " ".join(str(m) for m in get_messages(resp.wsgi_request))


def test_r_sec_2_checking_shows_the_candidate_with_evidence_writes_nothing_and_is_audited(
    registrar, facility, other_facility
):
    kept = _registered(registrar, facility)
    before = _written()
    page = registrar.post(URL, {**maja(other_facility, "S77"), "action": "check"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 existing record may be this person" in html
    assert "LINDQVIST, Maja" in html and f"/patients/{kept.pk}" in html
    assert "1972-11-30" in html and "N300123" in html
    # the evidence, field by field, with levels and weights
    rows = page.context["candidates"]
    assert [r["patient"].pk for r in rows] == [kept.pk]
    evidence = {e["comparison"]: e for e in rows[0]["evidence"]}
    assert {"birth_date", "family_name", "given_name", "ssn"} <= evidence.keys()
    assert evidence["birth_date"]["level"] in html
    assert f"{evidence['family_name']['weight']:.2f}" in html
    assert rows[0]["candidate"].probability >= 0.98
    assert ("Above the automatic-link threshold 0.98 at SOUTH</strong>: registering "
            "links to this record") in html  # fmt: skip
    # near certain: "Use this record" is the primary action (it links, as Register
    # would); Register itself is not offered beside it
    assert ('<button type="submit" name="action" value="register" class="btn '
            'primary">Use this record</button>') in html  # fmt: skip
    assert ">Create a new record anyway</button>" in html
    assert ">Register</button>" not in html
    # the form's values come back for the next step
    assert 'value="S77"' in html and 'value="Lindqvist"' in html
    assert _written() == before
    search = AuditEvent.objects.filter(action="patient.search").latest("id")
    assert json.loads(search.detail) == {"search": "before create", "results": 1}


def test_registering_someone_new_creates_the_record(registrar, facility):
    resp = registrar.post(URL, {**maja(facility), "action": "register"})
    patient = Patient.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/patients/{patient.pk}"
    assert "a new record was created with MRN N300123 (NORTH)" in _message(resp)
    assert patient.legal_name().family == "Lindqvist"
    assert patient.birth_date == date(1972, 11, 30) and patient.sex == "female"
    assert patient.created_via == "web"
    assert patient.addresses.get().city == "Duluth"
    assert patient.telecoms.get().value == "218-555-0199"
    assert patient.identifiers.get(kind="SS").last4 == "4321"
    decision = MatchDecision.objects.get()
    assert decision.outcome == "created" and decision.source == "ui"
    chart = registrar.get(resp["Location"]).content.decode()
    assert "a new record was created with MRN N300123" in chart


def test_the_same_person_at_a_second_facility_is_linked(
    registrar, facility, other_facility
):
    kept = _registered(registrar, facility)
    resp = registrar.post(URL, {**maja(other_facility, "S77"), "action": "register"})
    assert resp.status_code == 302 and resp["Location"] == f"/patients/{kept.pk}"
    assert "MRN S77 (SOUTH) added to this existing record" in _message(resp)
    assert Patient.objects.get() == kept  # one person, one record, two MRNs
    mrns = kept.identifiers.filter(kind="MR").values_list("value", flat=True)
    assert sorted(mrns) == ["N300123", "S77"]
    decision = MatchDecision.objects.latest("decided_at")
    assert decision.outcome == "linked" and not decision.manual


def test_using_a_chosen_record_needs_a_reason(registrar, facility, other_facility):
    chosen = factories.patient(facility=facility, family="Lindquist", given="Maya",
                               birth_date=date(1972, 11, 30), mrn="N1")  # fmt: skip
    before = _written()
    form = {**maja(other_facility, "S77"), "link_to": str(chosen.pk)}
    refused = registrar.post(URL, form)
    assert refused.status_code == 422
    assert refused.context["form"].errors["reason"] == [
        "say why you chose this over the suggested outcome"
    ]
    html = refused.content.decode()
    assert "Nothing was registered" in html and "LINDQUIST, Maya" in html
    assert _written() == before
    done = registrar.post(URL, {**form, "reason": "photo id matches"})
    assert done.status_code == 302 and done["Location"] == f"/patients/{chosen.pk}"
    assert "MRN S77 (SOUTH) added to this existing record" in _message(done)
    assert chosen.identifiers.filter(kind="MR", value="S77").exists()
    decision = MatchDecision.objects.get()
    assert decision.manual and decision.reason == "photo id matches"


def test_creating_anyway_with_a_reason_sends_the_pair_to_review(
    registrar, facility, other_facility
):
    kept = _registered(registrar, facility)
    form = {**maja(other_facility, "S77"), "action": "create_anyway"}
    refused = registrar.post(URL, form)
    assert refused.status_code == 422 and "reason" in refused.context["form"].errors
    assert Patient.objects.count() == 1
    resp = registrar.post(URL, {**form, "reason": "she says she is not this Maja"})
    new = Patient.objects.exclude(pk=kept.pk).get()
    assert resp.status_code == 302 and resp["Location"] == f"/patients/{new.pk}"
    assert "the possible duplicate was sent to the duplicate worklist" in _message(resp)
    decision = MatchDecision.objects.get(patient=new)
    assert decision.outcome == "review" and decision.manual
    assert decision.candidate_id == kept.pk


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("family", "", "This field is required."),
        ("family", "--", "a family name with at least one letter is required"),
        (
            "birth_date",
            (date.today() + timedelta(days=3)).isoformat(),
            "is in the future",
        ),
        ("ssn", "12-345", "an SSN has nine digits"),
        ("state", "M", "at least 2 characters"),
        ("city", "", "city is missing"),
    ],
)
def test_bad_input_is_shown_at_its_field_and_nothing_is_written(
    registrar, facility, field, value, error
):
    for action in ("check", "register"):
        resp = registrar.post(
            URL, {**maja(facility, **{field: value}), "action": action}
        )
        assert resp.status_code == 422
        assert any(error in e for e in resp.context["form"].errors[field]), (
            resp.context["form"].errors
        )
        assert resp.context["candidates"] is None  # not searched on bad input
        assert _written() == (0, 0, 0)
    assert not AuditEvent.objects.filter(action="patient.search").exists()


def test_a_taken_mrn_is_named_at_the_mrn(registrar, facility):
    factories.patient(facility=facility, family="Other", mrn="N300123")
    before = _written()
    resp = registrar.post(URL, {**maja(facility), "action": "create_anyway",
                                "reason": "new person"})  # fmt: skip
    assert resp.status_code == 422
    assert "already belongs to another patient" in resp.context["form"].errors["mrn"][0]
    assert _written() == before


def test_records_outside_your_facilities_are_not_shown(facility, other_facility):
    north = factories.user("north.reg", "him_specialist", facilities=[facility])
    south = factories.user("south.reg", "him_specialist", facilities=[other_facility])
    _registered(signed_in(north), facility)
    page = signed_in(south).post(
        URL, {**maja(other_facility, "S77"), "action": "check"}
    )
    html = page.content.decode()
    assert page.status_code == 200 and page.context["candidates"] == []
    assert "LINDQVIST" not in html and "N300123" not in html
    assert "a record outside your facilities (not shown)" in html
    # the facility choice is the user's own facilities only
    assert str(facility.pk) not in html
    refused = signed_in(south).post(URL, {**maja(facility, "N9"), "action": "check"})
    assert "facility" in refused.context["form"].errors


def test_registering_needs_edit_demographics(db, facility):
    coder = signed_in(factories.user("coder.reg", "coder", facilities=[facility]))
    assert coder.get(URL).status_code == 403
    refused = coder.post(URL, {**maja(facility), "action": "register"})
    assert refused.status_code == 403
    assert "register patients and change demographics" in refused.content.decode()
    assert _written() == (0, 0, 0)
    assert "Register a patient" not in coder.get("/").content.decode()


def test_the_search_page_leads_to_the_form(registrar):
    assert 'href="/patients/new">Register a patient</a>' in (
        registrar.get("/").content.decode()
    )
    form = registrar.get(URL)
    assert form.status_code == 200
    assert ">Check for existing records</button>" in form.content.decode()
    assert AuditEvent.objects.filter(action="patient.search").count() == 0


# --- in real Chromium ---------------------------------------------------------------


@pytest.mark.browser
def test_register_in_the_browser_check_see_evidence_and_link(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 1000})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Register a patient").click()
    expect(page.get_by_role("heading", name="Register a patient")).to_be_visible()
    # José Núñez, already registered at NORTH, now arrives at SOUTH
    page.get_by_label("Family name").fill("Nunez")
    page.get_by_label("Given name").fill("Jose")
    page.get_by_label("Date of birth").fill("1980-04-02")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("MRN", exact=True).fill("S500")
    page.get_by_label("Facility of the MRN").select_option(
        label="SOUTH · South General Hospital"
    )
    page.get_by_label("Street address").fill("12 Elm St")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("State").fill("IL")
    page.get_by_label("ZIP code").fill("62701")
    page.get_by_label("Phone").fill("217-555-0100")
    page.get_by_role("button", name="Check for existing records").click()

    candidate = page.locator("article.candidate")
    expect(candidate).to_have_count(1)
    expect(candidate.get_by_role("link", name="NÚÑEZ, José")).to_be_visible()
    expect(candidate).to_contain_text("N100001")
    expect(candidate).to_contain_text(
        "Above the automatic-link threshold 0.98 at SOUTH: registering links "
        "to this record"
    )
    evidence = candidate.locator("table.evidence")
    expect(evidence.get_by_role("cell", name="Date of birth")).to_be_visible()
    expect(evidence.get_by_role("cell", name="Surname")).to_be_visible()
    # the values typed are still there for the next step
    expect(page.get_by_label("MRN", exact=True)).to_have_value("S500")
    page.screenshot(path=ARTIFACTS / "05-register-candidates.png", full_page=True)

    # near certain: "Use this record" is the one primary button, Register is gone
    primary = page.locator("button.primary")
    expect(primary).to_have_count(1)
    expect(primary).to_have_text("Use this record")
    expect(primary).to_be_visible()
    expect(page.get_by_role("button", name="Register", exact=True)).to_have_count(0)
    primary.click()
    page.wait_for_url(f"{base}/patients/{server['patient']}")
    expect(page.get_by_role("status").filter(
        has_text="MRN S500 (SOUTH) added to this existing record")).to_be_visible()  # fmt: skip
    expect(page.get_by_text("S500").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "06-register-linked.png", full_page=True)

    with sqlite3.connect(server["db"]) as db:
        patients = db.execute("SELECT count(*) FROM mpi_patient").fetchone()[0]
        outcome = db.execute(
            "SELECT outcome, source FROM linkage_matchdecision"
        ).fetchall()
        mrns = {r[0] for r in db.execute(
            "SELECT value FROM mpi_patientidentifier WHERE kind = 'MR'")}  # fmt: skip
    assert patients == 1 and outcome == [("linked", "ui")]
    assert mrns == {"N100001", "S500"}


def test_a_near_certain_match_held_back_from_linking_says_why(
    registrar, facility, other_facility
):
    """Above the automatic-link threshold but failing an automatic link's conditions
    (autolink.py: here a new surname, as after a marriage), the page says what keeps the records
    apart, not that the record holds another number (it holds none at SOUTH)."""
    _registered(registrar, facility)
    page = registrar.post(
        URL, {**maja(other_facility, "S77", family="Berg"), "action": "check"}
    )
    html = page.content.decode()
    top = page.context["candidates"][0]["candidate"]
    assert top.probability >= 0.98, top.probability
    assert "already holds another number" not in html
    assert ("is not linked automatically (different surnames): registering "
            "creates a new record and sends this pair to the duplicate worklist") in html
    # not near certain: Register stays the primary action
    assert 'class="btn primary">Use this record</button>' not in html


def test_a_match_holding_another_mrn_of_the_facility_says_so(registrar, facility):
    _registered(registrar, facility)
    page = registrar.post(URL, {**maja(facility, "N999"), "action": "check"})
    html = page.content.decode()
    assert page.context["candidates"][0]["candidate"].probability >= 0.98
    assert ("is not linked automatically (this record already holds another MRN "
            "at NORTH)") in html
