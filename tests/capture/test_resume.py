"""Workers as real processes: one killed (SIGKILL) in the middle of a batch is resumed
by the next after the last finished step; two read two batches at once. On a
PostgreSQL run they share a database of their own, else a SQLite data folder."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest

from . import scans

BIN = Path(sys.executable).parent
DATABASE = os.environ.get("RECORDROOM_DATABASE_URL", "")
PROBE = (
    "import django, json; django.setup();"
    "from recordroom.capture.models import CaptureBatch as B, CapturePage as P;"
    "print(json.dumps([{'name': b.filename, 'step': b.step, 'status': b.status,"
    " 'worker': b.worker, 'log': b.log,"
    " 'numbers': sorted(P.objects.filter(batch=b).values_list('number', flat=True)),"
    " 'documents': b.documents.count()} for b in B.objects.order_by('received_at')]))"
)


def _fresh(tmp_path: Path) -> dict[str, str]:
    """The environment of a new installation: its data folder, and on PostgreSQL a
    database made new (the processes cannot see the test's transaction)."""
    env = {**os.environ, "RECORDROOM_DATA_DIR": str(tmp_path / "data"),
           "DJANGO_SETTINGS_MODULE": "recordroom.settings"}  # fmt: skip
    env.pop("RECORDROOM_DATABASE_URL", None)
    if DATABASE:
        import psycopg

        base, _, name = DATABASE.rpartition("/")
        own = f"{name}_capture_proc"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{own}"')
        env["RECORDROOM_DATABASE_URL"] = f"{base}/{own}"
    init = subprocess.run([BIN / "recordroom", "init"], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert init.returncode == 0, init.stderr
    return env


def _state(env: dict[str, str]) -> list[dict]:
    done = subprocess.run([BIN / "python", "-c", PROBE], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _import(env: dict[str, str], *files: Path) -> None:
    got = subprocess.run([BIN / "recordroom", "capture", "import", *map(str, files),
                          "--source", "Scanner 1"], env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert "queued: `recordroom worker` reads them" in got.stdout


def _batch_file(path: Path, text_pages: int) -> Path:
    """One scanned page to OCR, then text pages to read."""
    scanned = scans.raster(scans.text_pdf(scans.LINES), dpi=150)[0]
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(scans.image_pdf([scanned], dpi=150))) as pdf:
        with pikepdf.open(
            io.BytesIO(scans.text_pdf(*[scans.LINES] * text_pages))
        ) as text:
            pdf.pages.extend(text.pages)
        pdf.save(out)
    path.write_bytes(out.getvalue())
    return path


def _worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([BIN / "recordroom", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip


@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_resumed_after_the_last_finished_step(tmp_path):
    env = _fresh(tmp_path)
    _import(env, _batch_file(tmp_path / "batch.pdf", 80))
    worker = _worker(env)
    try:
        for _ in range(600):
            if _state(env)[0]["step"] != "preflight":
                break
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # no finally block of the worker runs
        worker.wait(timeout=30)
    (killed,) = _state(env)
    assert killed["step"] == "normalise", killed  # killed while reading pages
    assert killed["status"] == "processing" and killed["worker"].endswith(
        f":{worker.pid}"
    )
    assert len(killed["numbers"]) < 81

    again = subprocess.run([BIN / "recordroom", "worker", "--batch"], env=env,
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    (final,) = _state(env)
    assert final["status"] == "indexing" and final["worker"] == ""
    steps = [e["step"] for e in final["log"]]
    assert steps == ["normalise", "read", "split", "propose", "file"]  # each once
    first, rest = final["log"][0], final["log"][1:]
    assert first["worker"] == killed["worker"]
    assert all(e["worker"] != killed["worker"] for e in rest)
    assert final["numbers"] == list(range(1, 82))  # every page once, none twice
    read = final["log"][1]["result"]
    assert read["pages"] == 81 and read["resumed_at"] == len(killed["numbers"]) + 1
    assert final["documents"] == 1


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not DATABASE, reason="parallel workers need PostgreSQL")
def test_two_workers_read_two_batches_at_once_on_postgresql(tmp_path):
    env = _fresh(tmp_path)
    _import(
        env,
        _batch_file(tmp_path / "one.pdf", 30),
        _batch_file(tmp_path / "two.pdf", 31),
    )
    workers = [_worker(env), _worker(env)]
    try:
        for _ in range(900):
            batches = _state(env)
            if all(b["status"] == "indexing" for b in batches):
                break
            time.sleep(0.2)
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGKILL)
            w.wait(timeout=30)
    one, two = _state(env)
    assert (one["status"], two["status"]) == ("indexing", "indexing")
    ran = {one["log"][0]["worker"], two["log"][0]["worker"]}
    assert len(ran) == 2  # each batch read by a worker of its own
    # and at the same time: each began its OCR before the other had finished it
    spans = [(b["log"][0]["at"], b["log"][-1]["at"]) for b in (one, two)]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]
