"""`make demo PORT=8100 HOST=... PATIENTS=...` reaches `recordroom demo`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_passes_port_host_and_patients_through():
    dry = subprocess.run(
        ["make", "-n", "demo", "PORT=8100", "HOST=0.0.0.0", "PATIENTS=300"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    run = [ln for ln in dry.stdout.splitlines() if "recordroom demo" in ln]
    assert run == [
        ".venv/bin/recordroom demo --port 8100 --host 0.0.0.0 --patients 300"
    ]
    plain = subprocess.run(["make", "-n", "demo"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    assert ".venv/bin/recordroom demo" in plain and "--port" not in plain
