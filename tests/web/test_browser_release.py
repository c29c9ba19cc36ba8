"""In real Chromium against the real server: the release desk end to end. Log a
request with an authorization missing its expiration, get the defect letter, fix
the form, select the documents, withhold a page and redact the SSN, build the
packet, have a second specialist pass it, release it, download it through the link
with its passcode as the requester, and find the disclosure in the patient's log.
Screenshots go to .artifacts/browser/."""

from __future__ import annotations

import io
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.factories import facility_today

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser

ELEMENTS = ("description", "discloser", "recipient", "purpose", "signature",
            "revocation_statement", "conditioning_statement", "redisclosure_statement")  # fmt: skip


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _text(pdf: bytes) -> str:
    return " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)


def test_a_release_from_intake_to_the_requesters_download(server, chromium):  # noqa: F811, PLR0915
    from playwright.sync_api import expect

    patient = seed(server, "browser_setup_release")["patient"]
    base = server["base"]
    staff = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = staff.new_page()

    # intake: find the patient, log the request
    _sign_in(page, base, "roi.web")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Release"
    ).click()
    page.get_by_role("link", name="Log a request").click()
    page.get_by_label("Name", exact=True).fill("quintero")
    page.get_by_role("button", name="Find the patient").click()
    page.get_by_role("link", name="Choose QUINTERO, Lucía").click()
    page.get_by_label("Requester type").select_option(
        label="Third party with an authorization"
    )
    page.get_by_label("Requester name").fill("Ann Counsel")
    page.get_by_label("Organization").fill("Counsel & Co LLP")
    page.get_by_label("Email").fill("ann@counsel.example")
    page.get_by_label("The entire record", exact=True).check()
    page.get_by_label("Why the entire record").fill("the claim covers every admission")
    page.get_by_label("Delivery").select_option("download")
    page.screenshot(path=ARTIFACTS / "20-release-intake.png", full_page=True)
    page.get_by_role("button", name="Log the request").click()
    expect(
        page.get_by_text(re.compile(r"Request ROI-\d{4}-\d{6} logged"))
    ).to_be_visible()
    number = re.search(r"ROI-\d{4}-\d{6}", page.title()).group(0)
    request_url = page.url

    # an authorization missing its expiration: defective, and the letter says so
    page.get_by_role("button", name="Record an authorization").click()
    for code in ELEMENTS:
        page.locator(f'input[name="el_{code}"]').check()
    page.get_by_label("Recipient named").fill("Counsel & Co LLP")
    page.get_by_label("Purpose stated").fill("personal injury claim")
    page.get_by_label("Signed on").fill(
        (facility_today() - timedelta(days=3)).isoformat()
    )
    page.get_by_label("Signed by", exact=True).fill("Lucía Quintero")
    page.get_by_role("button", name="Record this form").click()
    expect(
        page.get_by_text("expiration date or event (R-AUTH-2(5))").first
    ).to_be_visible()
    expect(page.get_by_text("Not releasable yet")).to_be_visible()
    page.get_by_role("button", name="Pend and write the defect letter").click()
    letter = page.get_by_role("link", name="Defective authorization / pend")
    expect(letter).to_be_visible()
    defect_pdf = page.request.get(base + letter.get_attribute("href"))
    assert defect_pdf.ok and "expiration" in _text(defect_pdf.body()).lower()
    page.screenshot(path=ARTIFACTS / "21-release-defect.png", full_page=True)

    # the requester sends the corrected form
    page.get_by_role("link", name="HIPAA authorization (164.508)").click()
    page.locator('input[name="el_expiration"]').check()
    page.get_by_label("Expires on", exact=True).fill(
        (facility_today() + timedelta(days=365)).isoformat()
    )
    page.get_by_role("button", name="Save the corrections").click()
    expect(page.get_by_text("recorded: no defect")).to_be_visible()
    expect(
        page.get_by_text(re.compile("Basis: the patient's authorization"))
    ).to_be_visible()

    # documents, a page withheld and the SSN redacted, the packet
    page.get_by_role("button", name="Select documents").click()
    expect(page.get_by_text("1 document selected, 0 left out.")).to_be_visible()
    page.get_by_role("link", name="Discharge summary").first.click()
    page.get_by_label("Pages left out of the packet").fill("3")
    page.locator("#withhold-reason").fill("billing, not asked for")
    page.get_by_role("button", name="Save the pages withheld").click()
    expect(page.get_by_text("Pages 3 withheld.")).to_be_visible()
    page.get_by_label("Text", exact=True).fill("123-45-6789")
    page.locator("#redact-reason").fill("not needed for the claim")
    page.get_by_role("button", name="Redact", exact=True).click()
    expect(page.get_by_text("Redacted on page 1.")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "22-release-redact.png", full_page=True)
    page.goto(request_url)
    page.get_by_role("button", name="Build packet").click()
    expect(
        page.get_by_text(re.compile(r"Packet ROI-\d{4}-\d{6} built"))
    ).to_be_visible()
    expect(page.get_by_text("a second person must review it")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # a second specialist reviews and releases
    _sign_in(page, base, "roi2.web")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Release"
    ).click()
    page.get_by_role("link", name=number).click()
    packet = page.request.get(base + page.get_by_role("link", name="Open the packet")
                              .get_attribute("href"))  # fmt: skip
    assert packet.ok and "123-45-6789" not in _text(packet.body())
    page.get_by_label(re.compile("Every page belongs to this patient")).check()
    page.get_by_label(re.compile("Every page is within what the request asks")).check()
    page.get_by_role("button", name="Pass").click()
    expect(page.get_by_text("Review passed: ready to release.")).to_be_visible()
    page.get_by_role("button", name=re.compile(f"Release {number}")).click()
    expect(
        page.get_by_role("status").get_by_text(f"Released as {number}")
    ).to_be_visible()
    page.get_by_role("button", name="Create a download link").click()
    url = page.locator(".link-url").inner_text()
    passcode = page.locator(".link-passcode").inner_text()
    page.screenshot(path=ARTIFACTS / "23-release-link.png", full_page=True)

    # the requester: the link, the passcode, the file
    requester = chromium.new_context(accept_downloads=True).new_page()
    requester.goto(url)
    requester.get_by_label("Passcode").fill("WRONG999")
    requester.get_by_role("button", name="Download").click()
    expect(requester.get_by_role("alert")).to_contain_text(
        "Wrong passcode (4 tries left"
    )
    requester.get_by_label("Passcode").fill(passcode)
    with requester.expect_download() as got:
        requester.get_by_role("button", name="Download").click()
    data = Path(got.value.path()).read_bytes()
    text = _text(data)
    assert data.startswith(b"%PDF") and number in text
    assert "123-45-6789" not in text and "Billing notes" not in text
    assert "Follow-up in two weeks" in text

    # the disclosure in the patient's log (under an authorization it is not one the
    # accounting lists, R-AOD-2)
    page.get_by_role("link", name="The patient's disclosures").click()
    log = page.locator("table.disclosure-log")
    expect(log.get_by_role("link", name=number)).to_be_visible()
    expect(log.get_by_text("not listed")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "24-release-disclosures.png", full_page=True)
    staff.close()

    with sqlite3.connect(server["db"]) as db:
        done = {row[0] for row in db.execute(
            "SELECT action FROM audit_auditevent WHERE patient_id = ?", (patient,))}  # fmt: skip
    assert {"release.request_create", "release.authorization", "release.letter",
            "release.scope", "release.redact", "release.packet", "release.review",
            "release.release", "release.link", "release.download",
            "release.refused"} <= done  # fmt: skip
