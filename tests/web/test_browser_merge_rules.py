"""In real Chromium against the real server: a merge the rules refuse shows a
merge button that looks refused (grey, not-allowed pointer, aria-disabled) with the
reason beside it; a merge they allow shows the usual button. Screenshots go to
.artifacts/browser/."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD
from .test_browser import ARTIFACTS, chromium, seed, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_refused_merge_button_looks_refused_with_its_reason(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    ids = seed(server, "browser_setup_merge")
    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    left, right = ids["typo"]
    page.goto(f"{base}/identity/merge?left={left}&right={right}")
    allowed = page.get_by_role("button", name="Merge into the record kept")
    expect(allowed).to_be_enabled()
    expect(page.get_by_text("the SSNs differ by two digits transposed")).to_be_visible()
    live = allowed.evaluate("b => [getComputedStyle(b).backgroundColor, "
                            "getComputedStyle(b).cursor]")  # fmt: skip

    left, right = ids["twins"]
    page.goto(f"{base}/identity/merge?left={left}&right={right}")
    refused = page.get_by_role("button", name="Merge into the record kept")
    expect(refused).to_be_disabled()
    expect(refused).to_have_attribute("aria-disabled", "true")
    reason = page.locator("#merge-refused")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("twins are two people (an HIM manager may override)")
    expect(refused).to_have_accessible_description(
        "Not allowed: same birth date and surname, different first names (Mary and "
        "Mark): twins are two people (an HIM manager may override)"
    )
    background, cursor = refused.evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).cursor]"
    )
    assert cursor == "not-allowed" and live[1] == "pointer"
    assert background == "rgb(228, 232, 236)" and background != live[0]
    # beside the button, on its line
    box, text = refused.bounding_box(), reason.bounding_box()
    assert abs(box["y"] - text["y"]) < box["height"] and text["x"] > box["x"]
    refused.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "20-merge-refused.png", full_page=True)
