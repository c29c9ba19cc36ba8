"""A worker killed (SIGKILL) in the middle of a batch: the next worker resumes it
after its last finished step, and the batch ends as if nothing had happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import scans

BIN = Path(sys.executable).parent
PROBE = (
    "import django, json; django.setup();"
    "from recordroom.capture.models import CaptureBatch as B, CapturePage as P;"
    "b = B.objects.first();"
    "print(json.dumps({'step': b.step, 'status': b.status, 'worker': b.worker,"
    " 'log': b.log, 'pages': P.objects.filter(batch=b).count(),"
    " 'numbers': sorted(P.objects.filter(batch=b).values_list('number', flat=True)),"
    " 'documents': b.documents.count()}))"
)


def _env(data: Path) -> dict[str, str]:
    env = {**os.environ, "RECORDROOM_DATA_DIR": str(data),
           "DJANGO_SETTINGS_MODULE": "recordroom.settings"}  # fmt: skip
    env.pop("RECORDROOM_DATABASE_URL", None)
    return env


def _state(data: Path) -> dict:
    done = subprocess.run([BIN / "python", "-c", PROBE], env=_env(data),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_resumed_after_the_last_finished_step(tmp_path):
    data = tmp_path / "data"
    init = subprocess.run([BIN / "recordroom", "init"], env=_env(data),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert init.returncode == 0, init.stderr
    # one scanned page to OCR, then many text pages to read: the kill lands in "read"
    scanned = scans.raster(scans.text_pdf(scans.LINES), dpi=150)[0]
    import io

    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(scans.image_pdf([scanned], dpi=150))) as pdf:
        with pikepdf.open(io.BytesIO(scans.text_pdf(*[scans.LINES] * 80))) as text:
            pdf.pages.extend(text.pages)
        pdf.save(out)
    batch_file = tmp_path / "batch.pdf"
    batch_file.write_bytes(out.getvalue())
    got = subprocess.run([BIN / "recordroom", "capture", "import", str(batch_file),
                          "--source", "Scanner 1"], env=_env(data),
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert "received" in got.stdout and "queued" in got.stdout

    worker = subprocess.Popen([BIN / "recordroom", "worker"], env=_env(data),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    try:
        for _ in range(600):
            state = _state(data)
            if state["step"] in ("normalise", "read", "split", "propose", "file"):
                break
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # no finally block of the worker runs
        worker.wait(timeout=30)
    killed = _state(data)
    assert killed["step"] == "normalise", killed  # killed while reading pages
    assert killed["status"] == "processing" and killed["worker"].endswith(
        f":{worker.pid}"
    )
    assert killed["pages"] < 81

    again = subprocess.run([BIN / "recordroom", "worker", "--batch"], env=_env(data),
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    final = _state(data)
    assert final["status"] == "indexing" and final["worker"] == ""
    steps = [e["step"] for e in final["log"]]
    assert steps == ["normalise", "read", "split", "propose", "file"]  # each once
    first, rest = final["log"][0], final["log"][1:]
    assert first["worker"] == killed["worker"]
    assert all(e["worker"] != killed["worker"] for e in rest)
    assert final["numbers"] == list(range(1, 82))  # every page once, none twice
    read = final["log"][1]["result"]
    assert read["pages"] == 81 and read["resumed_at"] == killed["pages"] + 1
    assert final["documents"] == 1
