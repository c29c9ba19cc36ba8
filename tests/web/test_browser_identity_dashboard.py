"""In real Chromium against the real server: from the Identity pages to the MPI
dashboard, judge the day's automatic link wrong, find it on the overlay worklist.
Screenshots go to .artifacts/browser/."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, REPO, SOURCE, _run, chromium, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_judge_an_automatic_link_wrong_on_the_dashboard(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    env = {k: v for k, v in os.environ.items() if not k.startswith("RECORDROOM_")}
    env.update(RECORDROOM_DATA_DIR=str(Path(server["db"]).parent),
               DJANGO_SETTINGS_MODULE="recordroom.settings", PYTHONPATH=SOURCE)  # fmt: skip
    seeded = _run([sys.executable, "-m", "tests.web.browser_setup_mpi"], env)
    chart = json.loads(seeded.splitlines()[-1])["chart"]

    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Identity").click()
    page.get_by_role("navigation", name="Identity").get_by_role(
        "link", name="Dashboard"
    ).click()
    expect(page.get_by_role("heading", name="Patient index dashboard")).to_be_visible()
    north = page.locator("#by-facility tbody tr").first
    expect(north).to_contain_text("NORTH")
    expect(page.get_by_text("linked 1 registration to")).to_be_visible()
    card = page.get_by_role("region", name="Linked to LINDQVIST, Maja")
    expect(card).to_contain_text("S400400")  # what the registration brought
    page.screenshot(path=ARTIFACTS / "10-mpi-dashboard.png", full_page=True)

    card.get_by_label("Note").fill("two women of that name on Birch Ave")
    card.get_by_role("button", name="Wrong").click()
    expect(page.get_by_text("Recorded: Wrong link")).to_be_visible()
    expect(page.get_by_text("No automatic link waiting for review")).to_be_visible()
    page.get_by_role("navigation", name="Identity").get_by_role(
        "link", name="Overlays"
    ).click()
    expect(page.get_by_role("cell", name="Automatic link judged wrong")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "11-wrong-link-overlay.png", full_page=True)

    with sqlite3.connect(server["db"]) as db:
        reviews = db.execute(
            "SELECT patient_id FROM audit_auditevent WHERE action = 'mpi.link_review'"
        ).fetchall()
    assert [r[0].replace("-", "") for r in reviews] == [chart.replace("-", "")]
