"""In real Chromium against the real server: a provider signs in, sees the badge
and their deficiencies by patient, signs one from its page (R-RC-1), then signs the
others in one pass, each document shown before it is signed. Screenshots go to
.artifacts/browser/."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser


def _shown(page, action):
    """Do `action` and wait for the document viewer to fetch the version shown."""
    with page.expect_response(lambda r: "/content" in r.url and r.status == 200):
        action()


def test_r_rc_1_sign_from_the_inbox_and_in_one_pass(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    seed(server, "browser_setup_inbox")
    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("dr.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".inbox-note strong")).to_have_text("9")  # 3 charts x 3
    page.get_by_role("link", name="Inbox").first.click()
    expect(page.locator("table.inbox-patient")).to_have_count(3)
    page.screenshot(path=ARTIFACTS / "50-provider-inbox.png", full_page=True)

    # One from its own page: read, then sign.
    first = page.locator("table.inbox-patient").first
    _shown(page, lambda: first.get_by_role("link", name="Signature:").click())
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("the deficiency is closed.")).to_be_visible()
    expect(page.locator("table.inbox-patient")).to_have_count(3)

    # The rest in one pass: each shown, then signed.
    _shown(page, lambda: page.get_by_role(
        "button", name="Sign in one pass (2 awaiting a signature)").click())  # fmt: skip
    expect(page.locator(".pass-at")).to_have_text("1")
    page.screenshot(path=ARTIFACTS / "51-signing-pass.png", full_page=True)
    _shown(page, lambda: page.get_by_role("button", name="Sign and next").click())
    expect(page.locator(".pass-at")).to_have_text("2")
    page.get_by_role("button", name="Sign and next").click()
    expect(page.get_by_text("Pass finished: 2 signed, 0 skipped.")).to_be_visible()
    expect(page.locator(".inbox-link .badge")).to_have_text("6")
    page.screenshot(path=ARTIFACTS / "52-pass-finished.png", full_page=True)

    with sqlite3.connect(server["db"]) as db:
        signed = db.execute(
            "SELECT count(*) FROM records_signature s JOIN records_provider p "
            "ON p.id = s.signer_id WHERE p.family = 'Okonkwo'"
        ).fetchone()[0]
        closed = db.execute(
            "SELECT count(*) FROM completion_deficiency WHERE kind = 'signature' "
            "AND status = 'closed'"
        ).fetchone()[0]
    assert (signed, closed) == (3, 3)
