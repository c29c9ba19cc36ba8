"""In real Chromium against the real server: the chart-completion dashboard with
its charts, the suspension list, and letters written from it (R-RC-7). Screenshots
go to .artifacts/browser/."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_r_rc_7_dashboard_suspension_list_and_letters(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    seed(server, "browser_setup_completion")
    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Chart completion").click()
    expect(page.get_by_role("heading", name="Chart completion dashboard")).to_be_visible()
    expect(page.get_by_role("img", name="Delinquency rate by month")).to_be_visible()
    expect(page.get_by_role("img", name="Open deficiencies by age")).to_be_visible()
    expect(page.locator("#aging tbody tr").last).to_contain_text("30+ days")
    expect(page.locator("#aging tbody tr").last.locator("td").nth(1)).to_have_text("2")
    page.screenshot(path=ARTIFACTS / "30-completion-dashboard.png", full_page=True)
    page.get_by_role("link", name="Cardiology").click()
    expect(page.get_by_text("service Cardiology")).to_be_visible()

    nav = page.get_by_role("navigation", name="Chart completion")
    nav.get_by_role("link", name="Suspension list").click()
    row = page.locator("#suspension-list tbody tr").first
    expect(row).to_contain_text("Lena Late, MD")
    expect(row.locator("td").nth(3)).to_have_text("2")
    with page.expect_download() as csv:
        page.get_by_role("link", name="Download CSV").click()
    assert "Lena Late, MD" in open(csv.value.path(), encoding="utf-8").read()
    page.screenshot(path=ARTIFACTS / "31-suspension-list.png", full_page=True)
    page.get_by_role("button", name="Write letters").click()
    expect(page.get_by_text("1 letter written")).to_be_visible()
    letters = page.locator("#letters tbody tr").first
    expect(letters).to_contain_text("Suspension notice")
    expect(letters).to_contain_text("to print")
    page.screenshot(path=ARTIFACTS / "32-letters.png", full_page=True)

    with sqlite3.connect(server["db"]) as db:
        actions = {a for (a,) in db.execute(
            "SELECT action FROM audit_auditevent WHERE action LIKE 'completion.%'")}  # fmt: skip
    assert {"completion.suspension_list", "completion.letter"} <= actions
