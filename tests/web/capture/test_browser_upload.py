"""In real Chromium against the real server: files dropped on the capture page are
listed, sent in one post, and shown as batches with their status. Screenshot in
.artifacts/browser/."""

from __future__ import annotations

import base64

import pytest

from tests.capture import scans
from tests.web.conftest import PASSWORD
from tests.web.test_browser import ARTIFACTS, chromium, server  # noqa: F401

pytestmark = pytest.mark.browser

DROP = """([names, blobs]) => {
  const all = new DataTransfer();
  names.forEach((name, i) => {
    const bytes = Uint8Array.from(atob(blobs[i]), c => c.charCodeAt(0));
    all.items.add(new File([bytes], name));
  });
  const zone = document.getElementById("capture-drop");
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: all, bubbles: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: all, bubbles: true}));
}"""


def test_dropped_files_become_batches_with_their_status(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Capture").click()
    expect(page.get_by_role("heading", name="Upload scans and faxes")).to_be_visible()
    pdf = base64.b64encode(scans.text_pdf(scans.LINES)).decode()
    page.evaluate(
        DROP,
        [
            ["ward-4.pdf", "letter.docx"],
            [pdf, base64.b64encode(b"PK\x03\x04").decode()],
        ],
    )
    chosen = page.locator("#capture-chosen li")
    expect(chosen).to_have_count(2)
    expect(chosen.first).to_contain_text("ward-4.pdf")
    page.get_by_role("button", name="Capture").click()
    expect(
        page.get_by_text("2 files received; 1 refused (see the reason below).")
    ).to_be_visible()
    rows = page.locator("table.capture-batches tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("tr.status-refused")).to_contain_text(
        "a .docx is not a scan: capture takes PDF, TIFF, PNG or JPEG"
    )
    expect(page.locator("tr.status-received")).to_contain_text("ward-4.pdf")
    page.screenshot(path=ARTIFACTS / "40-capture-upload.png", full_page=True)
