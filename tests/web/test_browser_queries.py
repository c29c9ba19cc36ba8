"""In real Chromium against the real server: a CDI specialist raises a query from the
chart (a template, a result and words selected in the note), the attending signs in,
finds it in "My queries" and answers; the answer is filed and signed. Screenshots go
to .artifacts/browser/."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser


def _sign_in(browser, base: str, username: str):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_r_qry_2_raise_a_query_from_the_chart_and_the_provider_answers(
    server, chromium  # noqa: F811
):
    from playwright.sync_api import expect

    ids = seed(server, "browser_setup_queries")
    base = server["base"]
    page = _sign_in(chromium, base, "cdi.web")
    page.goto(f"{base}/patients/{ids['patient']}")
    page.get_by_role("link", name="Raise a query about visit V500500").click()
    page.get_by_label("Start from a template").select_option("anemia-type")
    page.get_by_role("button", name="Use this template").click()
    page.get_by_label("Acute blood loss anemia").check()
    page.get_by_label("Dilutional anemia").check()
    page.get_by_label("Hemoglobin").check()
    page.locator("details.doc-text summary").first.click()
    page.evaluate("""() => {
        const pre = document.querySelector('pre.quotable');
        const node = pre.firstChild, text = node.textContent;
        const words = 'Transfused two units of packed red cells';
        const at = text.indexOf(words);
        const range = document.createRange();
        range.setStart(node, at); range.setEnd(node, at + words.length);
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
    }""")
    page.get_by_role("button", name="Quote the selected words").first.click()
    expect(page.get_by_label("Quote 1")).to_have_value(
        "Transfused two units of packed red cells")
    page.get_by_label("Kind 1").select_option("treatment")
    page.screenshot(path=ARTIFACTS / "50-query-builder.png", full_page=True)
    page.get_by_role("button", name="Send the query").click()
    expect(page.get_by_text("sent to Ngozi Okafor")).to_be_visible()
    expect(page.locator("dd.q-status")).to_have_text("Awaiting the provider")
    expect(page.get_by_text("Progress note, version 1, page 1")).to_be_visible()

    doctor = _sign_in(chromium, base, "dr.web")
    doctor.get_by_role("link", name="My queries").click()
    doctor.get_by_role("link", name="QRY-").click()
    expect(doctor.get_by_text("Clinically undetermined")).to_be_visible()
    doctor.get_by_label("Acute blood loss anemia").check()
    doctor.screenshot(path=ARTIFACTS / "51-query-answer.png", full_page=True)
    doctor.get_by_role("button", name="Sign and file the answer").click()
    expect(doctor.get_by_text("signed and filed in the record")).to_be_visible()
    expect(doctor.get_by_text("No query awaits your answer.")).to_be_visible()

    with sqlite3.connect(server["db"]) as db:
        status, agreed = db.execute(
            "SELECT status, agreed FROM queries_query").fetchone()
        signed = db.execute("SELECT count(*) FROM records_signature").fetchone()[0]
    assert (status, agreed, signed) == ("answered", 1, 1)
