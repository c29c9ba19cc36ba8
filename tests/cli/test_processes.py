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
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=180, **kw)


@pytest.fixture
def fresh(tmp_path):
    data = tmp_path / "data"
    done = run([BIN / "recordroom", "init"], data)
    assert done.returncode == 0, done.stderr
    assert (data / "recordroom.sqlite3").exists() and (data / "keys" / "blob.key").exists()
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
    verify = run([BIN / "recordroom", "audit", "verify"], fresh)
    assert verify.returncode == 0 and verify.stdout.strip() == "intact: 2 events"
