"""In real Chromium against the real server: an indexer files a clean proposal with
one key press (Enter), lands on the next, splits the doubtful one before its second
page with one key, and files what is left after confirming the patient by keyboard.
Screenshots go to .artifacts/browser/."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_clean_filed_with_one_key_doubtful_split(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    ids = seed(server, "browser_setup_capture")
    base = server["base"]
    page = chromium.new_page(viewport={"width": 1400, "height": 950})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Indexing", exact=True).click()
    expect(page.get_by_role("heading", name="Indexing queue")).to_be_visible()
    expect(page.locator("#capture-queue tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Index", exact=True).first.click()
    page.wait_for_url(f"**/capture/documents/{ids['clean']}")
    expect(page.locator(".page-view:not([hidden]) .vbox-mrn")).to_have_count(1)
    expect(page.locator("#file-form")).to_have_attribute("data-clean", "1")
    page.screenshot(path=ARTIFACTS / "40-capture-clean.png", full_page=True)

    page.keyboard.press("Enter")  # one key press files it
    page.wait_for_url(f"**/capture/documents/{ids['doubtful']}")
    expect(page.get_by_text("Filed Discharge summary (2 pages)")).to_be_visible()
    expect(page.locator("#file-form")).to_have_attribute("data-clean", "0")

    page.keyboard.press("j")  # next page
    expect(page.locator(".thumb.current")).to_have_attribute("data-position", "2")
    page.keyboard.press("s")  # split before it
    expect(page.get_by_text("Split: the pages from there on")).to_be_visible()
    expect(page.locator(".thumb-label")).to_have_count(1)
    page.screenshot(path=ARTIFACTS / "41-capture-split.png", full_page=True)

    page.keyboard.press("Enter")  # doubtful: the confirmation takes the focus
    expect(page.locator("#confirm-patient")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url("**/capture/documents/*")
    expect(page.get_by_text("Filed Discharge summary (1 page)")).to_be_visible()

    with sqlite3.connect(server["db"]) as db:
        filed = db.execute(
            "SELECT count(*) FROM capture_capturedocument WHERE status = 'filed'"
        ).fetchone()[0]
        waiting = db.execute(
            "SELECT pages FROM capture_capturedocument WHERE status = 'queued'"
        ).fetchall()
        scans = db.execute(
            "SELECT count(*) FROM records_document WHERE source = 'scan'"
        ).fetchone()[0]
        edits = db.execute(
            "SELECT count(*) FROM audit_auditevent WHERE action = 'capture.edit'"
        ).fetchone()[0]
    assert (filed, scans) == (2, 2)
    assert waiting == [('[{"page": 4, "rotate": 0}]',)]
    assert edits == 2  # the split, and the patient confirmation
