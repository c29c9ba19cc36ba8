"""In real Chromium against the real server: the duplicate worklist filtered by
facility, paged with the filters kept, a whole page assigned to a specialist, the
list narrowed to their pairs, and Scan now queued once. Screenshots go to
.artifacts/browser/."""

from __future__ import annotations

import re
import sqlite3

import pytest

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_filter_page_and_assign_on_the_worklist(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    seed(server, "browser_setup_worklist")
    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Identity").click()
    expect(page.get_by_role("heading", name="Possible duplicates")).to_be_visible()
    count = page.locator("#pair-count")
    expect(count).to_have_text("Showing 1–45 of 45 pairs.")

    page.get_by_label("Facility").select_option("NORTH")
    page.get_by_label("Per page").select_option("25")
    page.get_by_role("button", name="Filter").click()
    expect(count).to_have_text("Showing 1–25 of 35 pairs matching the filters.")
    assert "facility=NORTH" in page.url and "per_page=25" in page.url
    page.get_by_role("link", name="Next").click()
    expect(count).to_have_text("Showing 26–35 of 35 pairs matching the filters.")
    assert "page=2" in page.url and "facility=NORTH" in page.url

    page.get_by_label("Select every pair on this page").check()
    page.get_by_label("Assign selected to").select_option("north.web")
    page.get_by_role("button", name="Assign selected", exact=True).click()
    expect(page.get_by_text("10 pairs assigned to north.web.")).to_be_visible()
    expect(count).to_have_text("Showing 26–35 of 35 pairs matching the filters.")
    expect(page.locator("td .status-assigned")).to_have_count(10)
    page.screenshot(path=ARTIFACTS / "20-worklist-assigned.png", full_page=True)

    page.get_by_label("Assigned to").select_option("north.web")
    page.get_by_role("button", name="Filter").click()
    expect(count).to_have_text("Showing 1–10 of 10 pairs matching the filters.")
    assert re.search(r"assignee=north\.web", page.url)

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_role("button", name="Assign to me").first.click()
    expect(page.get_by_text("1 pair assigned to you.")).to_be_visible()

    page.get_by_role("button", name="Scan now").click()
    expect(page.get_by_text("Scan started.")).to_be_visible()
    expect(page.locator("#scan-status")).to_contain_text("Scan queued")
    expect(page.get_by_role("button", name="Scan now")).to_be_disabled()
    page.screenshot(path=ARTIFACTS / "21-worklist-scan-queued.png", full_page=True)

    with sqlite3.connect(server["db"]) as db:
        assigned = db.execute(
            "SELECT count(*) FROM audit_auditevent WHERE action = 'mpi.pair_assign'"
        ).fetchone()[0]
        requests = db.execute("SELECT count(*) FROM linkage_scanrequest").fetchone()[0]
    assert (assigned, requests) == (22, 1)
