"""The CLI as separate processes on a fresh data folder (SQLite): init, worker, audit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(args, data_dir, **kw):
    env = {
        **os.environ,
        "RECORDROOM_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "recordroom.settings",
    }
    env.pop("RECORDROOM_DATABASE_URL", None)
    return subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=180, **kw
    )


@pytest.fixture
def fresh(tmp_path):
    data = tmp_path / "data"
    done = run([BIN / "recordroom", "init"], data)
    assert done.returncode == 0, done.stderr
    assert (data / "recordroom.sqlite3").exists() and (
        data / "keys" / "blob.key"
    ).exists()
    return data


def test_worker_runs_queued_chain_verification(fresh):
    enqueue = (
        "import django; django.setup();"
        "from recordroom.audit.tasks import verify_chain_task as t; print(t.enqueue().id)"
    )
    assert run([BIN / "python", "-c", enqueue], fresh).returncode == 0
    worker = run([BIN / "recordroom", "worker", "--batch"], fresh)
    assert worker.returncode == 0, worker.stderr
    check = (
        "import django; django.setup();"
        "from recordroom.audit.models import AuditEvent as A;"
        "e = A.objects.order_by('-id').first(); print(e.action, e.outcome, e.detail)"
    )
    out = run([BIN / "python", "-c", check], fresh).stdout
    assert out.startswith("audit.verify success") and '"events":1' in out
    # R-SEC-2: the worker signs the chain's head when it starts
    (line,) = (fresh / "audit-checkpoints.jsonl").read_text().splitlines()
    assert '"chain":"hmac-sha256"' in line
    verify = run([BIN / "recordroom", "audit", "verify"], fresh)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.strip().splitlines()[-1] == "intact: 2 events (keyed)"


def test_r_sec_2_worker_writes_signed_checkpoints_on_its_schedule(fresh):
    import time

    env = {**os.environ, "RECORDROOM_DATA_DIR": str(fresh),
           "RECORDROOM_AUDIT_CHECKPOINT_MINUTES": "0.02"}  # fmt: skip
    env.pop("RECORDROOM_DATABASE_URL", None)
    proc = subprocess.Popen([BIN / "recordroom", "worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    path = fresh / "audit-checkpoints.jsonl"
    try:
        for _ in range(150):
            if path.exists() and len(path.read_text().splitlines()) >= 3:
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert len(path.read_text().splitlines()) >= 3
    verify = run([BIN / "recordroom", "audit", "verify"], fresh)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "last checkpoint: " in verify.stdout


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_and_logs_paths_without_query_strings(fresh):
    import time
    import urllib.request

    port = _free_port()
    env = {**os.environ, "RECORDROOM_DATA_DIR": str(fresh)}
    env.pop("RECORDROOM_DATABASE_URL", None)
    proc = subprocess.Popen(
        [BIN / "recordroom", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    assert r.status == 200 and r.read() == b"ok"
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("recordroom serve did not answer /healthz")
        with urllib.request.urlopen(
            f"{base}/login?next=/%3Fname%3Dsmith", timeout=5
        ) as r:
            assert r.status == 200
            assert r.headers["X-Request-ID"]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    assert "gunicorn" in output.lower() or "Listening at" in output
    assert '"GET /login"' in output and "smith" not in output


def test_demo_twice_adds_nothing_the_second_time(tmp_path):
    data = tmp_path / "demo"
    cmd = [BIN / "recordroom", "demo", "--patients", "20", "--seed", "7", "--no-serve"]
    first = run(cmd, data)
    assert first.returncode == 0, first.stderr
    assert "loaded" in first.stdout and "demo-him" in first.stdout
    ground_truth = (data / "demo" / "ground-truth.csv").read_text()
    count = (
        "import django; django.setup();"
        "from recordroom.mpi.models import Patient;"
        "from recordroom.records.models import Document;"
        "print(Patient.objects.count(), Document.objects.count())"
    )
    before = run([BIN / "python", "-c", count], data).stdout
    second = run(cmd, data)
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout
    assert run([BIN / "python", "-c", count], data).stdout == before
    assert (data / "demo" / "ground-truth.csv").read_text() == ground_truth
    verify = run([BIN / "recordroom", "audit", "verify"], data)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.splitlines()[-1].startswith("intact: ")


def test_manage_commands_are_audited_with_their_arguments(fresh):
    result = run([BIN / "recordroom", "manage", "check"], fresh)
    assert result.returncode == 0, result.stderr
    check = (
        "import django; django.setup();"
        "from recordroom.audit.models import AuditEvent as A;"
        "e = A.objects.get(action='cli.manage'); print(e.username.startswith('cli:'), e.detail)"
    )
    assert (
        run([BIN / "python", "-c", check], fresh).stdout.strip()
        == 'True {"argv":["check"]}'
    )


def test_demo_refuses_a_database_with_other_patients(fresh):
    add = (
        "import django; django.setup();"
        "from tests import factories;"
        "factories.patient(facility=factories.facility('REAL'), family='Real')"
    )
    made = run([BIN / "python", "-c", add], fresh, cwd=Path(__file__).parents[2])
    assert made.returncode == 0, made.stderr
    result = run([BIN / "recordroom", "demo", "--patients", "5", "--no-serve"], fresh)
    assert result.returncode == 1
    assert "holds patients the demo did not load" in " ".join(result.stderr.split())
    check = (
        "import django; django.setup();"
        "from recordroom.accounts.models import User;"
        "print(User.objects.filter(username__startswith='demo-').count())"
    )
    assert run([BIN / "python", "-c", check], fresh).stdout.strip() == "0"
