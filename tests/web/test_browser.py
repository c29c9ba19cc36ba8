"""In real Chromium against the real server (gunicorn): sign in, search by a partial
name, open the chart, read a PDF. Screenshots go to .artifacts/browser/."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]
# The server runs this checkout's code (src/), whichever checkout the venv installed.
SOURCE = os.pathsep.join((str(REPO / "src"), str(REPO)))
ARTIFACTS = REPO / ".artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def seed(server: dict[str, str], module: str) -> dict[str, Any]:
    """Run a further data module (`python -m tests.web.<module>`) in the running
    server's data folder; its last line of output is JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECORDROOM_")}
    env.update(RECORDROOM_DATA_DIR=str(Path(server["db"]).parent),
               DJANGO_SETTINGS_MODULE="recordroom.settings", PYTHONPATH=SOURCE)  # fmt: skip
    out = _run([sys.executable, "-m", f"tests.web.{module}"], env)
    return json.loads(out.splitlines()[-1])


@pytest.fixture
def server(tmp_path) -> Iterator[dict[str, str]]:
    """A fresh data folder (SQLite), migrated and seeded, served by gunicorn."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECORDROOM_")}
    env.update(
        RECORDROOM_DATA_DIR=str(tmp_path / "data"),
        DJANGO_SETTINGS_MODULE="recordroom.settings",
        PYTHONPATH=SOURCE,
    )
    python = sys.executable
    # First-time setup (keys, then migrate): a start without keys is refused.
    _run([python, "-c", "from recordroom.cli import main; main()", "init"], env)
    ids = json.loads(
        _run([python, "-m", "tests.web.browser_setup"], env).splitlines()[-1]
    )
    port = _free_port()
    gunicorn = str(Path(python).parent / "gunicorn")
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [gunicorn, "recordroom.wsgi:application", "-b", f"127.0.0.1:{port}",
         "--workers", "1"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    "gunicorn did not become ready:\n"
                    + (tmp_path / "gunicorn.log").read_text()
                )
            time.sleep(0.2)
        yield {"base": base, "db": str(tmp_path / "data" / "recordroom.sqlite3"), **ids}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; screenshots go to ARTIFACTS."""
    if shutil.which("chromium") is None or not Path(CHROMIUM).exists():
        pytest.skip(
            "Chromium is not installed: run `apt-get install chromium` as root "
            "(`make test` does it) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def test_sign_in_search_open_chart_and_read_a_pdf(server, chromium):
    from playwright.sync_api import expect

    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/patients/{server['patient']}")  # sends us to sign in
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.screenshot(path=ARTIFACTS / "01-login.png")
    page.get_by_role("button", name="Sign in").click()
    # `next` brought us to the chart; go to search as a user would.
    page.wait_for_url(f"{base}/patients/{server['patient']}")
    page.get_by_role("link", name="Patient search").click()

    page.get_by_label("Name", exact=True).fill("nun")
    page.get_by_role("button", name="Search", exact=True).click()
    result = page.get_by_role("link", name="NÚÑEZ, José")
    expect(result).to_be_visible()
    expect(page.get_by_text("N100001")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "02-search.png", full_page=True)

    result.click()
    expect(page.get_by_role("heading", name="NÚÑEZ, José")).to_be_visible()
    expect(page.get_by_role("cell", name="V1001").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "03-chart.png", full_page=True)

    with page.expect_response(lambda r: "/content?" in r.url) as pdf:
        page.get_by_role("link", name="Discharge summary").click()
    response = pdf.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    # Chromium's PDF viewer takes over the frame, so fetch the bytes once more
    # with the same session to see that they are the PDF.
    again = page.request.get(response.url)
    assert again.ok and again.body().startswith(b"%PDF-")
    viewer = page.locator("iframe#document-viewer")
    expect(viewer).to_have_attribute(
        "src",
        f"/documents/{server['document']}/content"
        "?how=view&disposition=inline&version=1",
    )
    page.wait_for_timeout(1000)  # let the PDF viewer paint for the screenshot
    page.screenshot(path=ARTIFACTS / "04-document.png")

    with sqlite3.connect(server["db"]) as db:
        done = {row[0] for row in db.execute("SELECT action FROM audit_auditevent")}
    assert {"auth.login", "patient.search", "chart.open", "document.view"} <= done


def test_pages_and_the_api_docs_run_under_the_content_security_policy(server, chromium):
    """No page trips the CSP (no inline script), the PDF still shows in its frame, and
    Swagger UI renders from the server's own files (R-SEC-3)."""
    from playwright.sync_api import expect

    base = server["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text)
            if "Content Security Policy" in m.text else None)  # fmt: skip
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((base, "data:", "blob:", "chrome")) else None)  # fmt: skip
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill("him.web")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/patients/{server['patient']}")
    with page.expect_response(lambda r: "/content?" in r.url) as pdf:
        page.get_by_role("link", name="Discharge summary").click()
    assert pdf.value.status == 200
    page.goto(f"{base}/api/v1/docs")
    expect(page.get_by_role("heading", name="Recordroom API")).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "05-api-docs.png")
    assert blocked == [] and outside == []
