"""In real Chromium against the real server: type words in the chart's document
search, see the page that holds them with the words marked, open it and see them
highlighted on the page image."""

from __future__ import annotations

import base64
import io
import sqlite3

import pytest
from PIL import Image

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_search_a_chart_and_see_the_hit_highlighted(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    seeded = seed(server, "browser_setup_fulltext")
    assert seeded["pages"] == 3  # the consult's two pages and the discharge summary
    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/patients/{server['patient']}")

    box = page.get_by_label("Search inside this chart's documents")
    box.fill('"mitral regurgitation"')
    box.press("Enter")
    expect(page.get_by_role("heading", name="Pages found")).to_be_visible()
    snippet = page.locator("td.snippet")
    expect(snippet).to_have_count(1)
    expect(snippet.locator("mark")).to_have_text(["mitral", "regurgitation"])
    page.screenshot(path=ARTIFACTS / "fulltext-01-results.png", full_page=True)

    page.get_by_role("link", name="Page 2").click()
    expect(
        page.get_by_role("heading", name="Cardiology consult, page 2 of 2")
    ).to_be_visible()
    expect(page.get_by_text("2 words on this page match")).to_be_visible()
    image = page.locator("#page-image")
    expect(image).to_be_visible()
    assert "2 matching words highlighted" in image.get_attribute("alt")
    page.screenshot(path=ARTIFACTS / "fulltext-02-page.png", full_page=True)
    src = image.get_attribute("src")
    png = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
    # The page's first line (baseline 720 points up an A4 page of 842) carries it.
    y = round((842 - 720 - 4) * 100 / 72)
    row = [png.getpixel((x, y)) for x in range(0, png.width)]
    highlighted = [
        x for x, (r, g, b) in enumerate(row) if r > 200 and g > 180 and b < 170
    ]
    assert len(highlighted) > 60  # the glyphs over it are dark
    # "Echocardiogram: mild", from the margin at 100 px, stays plain.
    assert 250 < min(highlighted) < max(highlighted) < 500

    with sqlite3.connect(server["db"]) as db:
        done = [row[0] for row in db.execute(
            "SELECT action FROM audit_auditevent ORDER BY id DESC LIMIT 2")]  # fmt: skip
    assert done == ["document.view", "document.search"]
