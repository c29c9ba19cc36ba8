"""In real Chromium against the real server: an amendment request logged from the
patient's MRN, its 60-day clock shown, and accepted: the amendment appended and the
acceptance letter listed. Screenshots go to .artifacts/browser/."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_r_amd_4_log_a_request_and_accept_it(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    seed(server, "browser_setup_amendments")
    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Amendments").click()
    expect(page.get_by_role("heading", name="Amendments", exact=True)).to_be_visible()
    page.get_by_role("link", name="Log a request").click()
    page.get_by_label("Patient's MRN").fill("N400400")
    page.get_by_role("button", name="Find the patient").click()
    page.get_by_label("Progress note", exact=False).check()
    page.get_by_label("What to change, as written").fill("I have never smoked.")
    page.get_by_label("Why, as written").fill("The note has my sister's history.")
    page.get_by_label("Name 1").fill("Dr. Ana Ruiz")
    page.get_by_role("button", name="Log the request").click()
    expect(page.locator(".req-days")).to_have_text("60")
    expect(page.locator(".req-status")).to_have_text("Received")
    page.screenshot(path=ARTIFACTS / "40-amendment-logged.png", full_page=True)

    page.get_by_role("radio", name="Accept").check()
    page.get_by_label("The amendment, appended to each accepted entry").fill(
        "The patient has never smoked."
    )
    page.get_by_role("button", name="Decide and write the letters").click()
    expect(page.get_by_text("Accepted; 2 letters written.")).to_be_visible()
    expect(page.locator(".req-status")).to_have_text("Accepted")
    expect(page.get_by_text("amended in v2")).to_be_visible()
    expect(page.get_by_role("cell", name="Acceptance")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "41-amendment-accepted.png", full_page=True)

    with sqlite3.connect(server["db"]) as db:
        decided = db.execute(
            "SELECT count(*) FROM audit_auditevent WHERE action = 'amendment.decide'"
        ).fetchone()[0]
    assert decided == 1
