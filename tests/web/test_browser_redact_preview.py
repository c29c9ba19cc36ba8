"""In real Chromium: on a document's redaction page, pick page 2 (A5 landscape) of
the preview, drag a box over it, and find the Redact form filled with the page and
the region in PDF points from the bottom-left corner; redact it and see it drawn
on the page. Screenshots go to .artifacts/browser/."""

from __future__ import annotations

import pytest

from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401
from .test_browser_release import _sign_in

pytestmark = pytest.mark.browser

A5_LANDSCAPE = (595.2756, 419.5276)  # points


def test_drag_a_box_on_the_preview_to_fill_the_region(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    ids = seed(server, "browser_setup_redact")
    base = server["base"]
    page = chromium.new_context(viewport={"width": 1366, "height": 900}).new_page()
    _sign_in(page, base, "roi.web")
    url = f"{base}/release/{ids['request']}/items/{ids['item']}"
    page.goto(url)
    expect(page.get_by_role("heading", name="Page 1 of 2")).to_be_visible()

    # the page picker (the script submits it on change)
    page.get_by_label("Show page").select_option("2")
    expect(page.get_by_role("heading", name="Page 2 of 2")).to_be_visible()
    image = page.get_by_role("img", name="Page 2 of Discharge summary")
    expect(image).to_be_visible()
    # Not wait_for_function: its string predicate is an eval, which the page's
    # Content-Security-Policy refuses (as it should).
    expect(image).not_to_have_js_property("naturalWidth", 0)
    assert image.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [827, 583]
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    assert box is not None
    scale = box["width"] / A5_LANDSCAPE[0]  # CSS pixels per point

    # drag from 50, 100 to 250, 130 points of the shown page (from its top left)
    start = (box["x"] + 50 * scale, box["y"] + 100 * scale)
    end = (box["x"] + 250 * scale, box["y"] + 130 * scale)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()
    expect(page.locator(".selection-box")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "30-redact-preview-drag.png", full_page=True)

    def value(field: str) -> float:
        return float(page.locator(f"#redact-{field}").input_value())

    assert page.locator("#redact-page").input_value() == "2"
    assert value("x") == pytest.approx(50, abs=1)
    # y from the bottom: the page is 419.5 points high, the box's foot at 130
    assert value("y") == pytest.approx(A5_LANDSCAPE[1] - 130, abs=1)
    assert value("width") == pytest.approx(200, abs=1)
    assert value("height") == pytest.approx(30, abs=1)
    assert page.locator("#redact-text").input_value() == ""
    expect(page.locator("#redact-reason")).to_be_focused()

    page.locator("#redact-reason").fill("billing, not asked for")
    page.get_by_role("button", name="Redact", exact=True).click()
    expect(page.get_by_text("Redacted on page 2.")).to_be_visible()
    expect(page.get_by_role("heading", name="Page 2 of 2")).to_be_visible()
    expect(page.locator(".page-preview .redaction-box")).to_have_count(1)
    page.screenshot(path=ARTIFACTS / "31-redact-preview-done.png", full_page=True)
