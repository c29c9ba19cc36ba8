"""Import runs a killed process left "running" are marked failed with the reason and
audited, on the next import or worker start (issue 10), never "running" forever."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.interop.bulk.importer import import_fhir
from recordroom.interop.bulk.runs import fail_abandoned_runs
from recordroom.interop.models import ImportRun
from tests import factories

HOST = socket.gethostname()


def _dead_pid():
    proc = subprocess.Popen(["true"])  # noqa: S607
    proc.wait()
    return proc.pid


def _left_running(**fields):
    return ImportRun.objects.create(started_by="cli:ops", source="lab-feed", **fields)


@pytest.fixture
def actor(db):
    user = factories.user("interface", "administrator", all_facilities=True)
    return factories.actor(user, channel="cli")


def test_a_run_whose_process_died_is_failed_by_the_next_import(actor, tmp_path):
    pid = _dead_pid()
    orphan = _left_running(host=HOST, pid=pid, heartbeat_at=timezone.now())
    (tmp_path / "empty.ndjson").write_text("")
    import_fhir(actor=actor, paths=[tmp_path / "empty.ndjson"])
    orphan.refresh_from_db()
    assert orphan.status == "failed" and orphan.finished_at is not None
    assert f"pid {pid} on {HOST}" in orphan.reason
    event = AuditEvent.objects.get(action="interop.import_abandoned")
    assert (event.outcome, event.object_id) == ("failure", str(orphan.pk))
    assert json.loads(event.detail)["source"] == "lab-feed"


def test_a_run_silent_for_too_long_is_failed_and_a_live_one_is_not(actor):
    silent = _left_running(host="other-host", pid=4242,
                           heartbeat_at=timezone.now() - timedelta(hours=2))  # fmt: skip
    live = _left_running(host="other-host", pid=4243, heartbeat_at=timezone.now())
    mine = _left_running(host=HOST, pid=os.getpid(), heartbeat_at=timezone.now())
    failed = fail_abandoned_runs(actor=actor)
    assert [r.pk for r in failed] == [silent.pk]
    assert "no sign of life since" in failed[0].reason
    for run in (live, mine):
        run.refresh_from_db()
        assert run.status == "running"
    assert fail_abandoned_runs(actor=actor) == []  # once only
    assert AuditEvent.objects.filter(action="interop.import_abandoned").count() == 1


BIN = Path(sys.executable).parent


def _env(data):
    env = {**os.environ, "RECORDROOM_DATA_DIR": str(data),
           "DJANGO_SETTINGS_MODULE": "recordroom.settings"}  # fmt: skip
    env.pop("RECORDROOM_DATABASE_URL", None)
    return env


def test_a_killed_import_is_failed_when_the_worker_starts(tmp_path):
    """kill -9 in the middle of `recordroom import fhir`; the worker fails the run."""
    data = tmp_path / "data"
    init = subprocess.run([BIN / "recordroom", "init"], env=_env(data),
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert init.returncode == 0, init.stderr
    made = subprocess.run([BIN / "recordroom", "facility", "create", "NORTH", "--name",
                           "North Hospital", "--timezone", "America/New_York"],
                          env=_env(data), capture_output=True, text=True, timeout=180)  # fmt: skip
    assert made.returncode == 0, made.stderr
    feed = tmp_path / "patients.ndjson"
    with feed.open("w") as fh:
        for i in range(30_000):
            fh.write(json.dumps({"resourceType": "Patient", "id": f"p{i}",
                                 "name": [{"family": f"Doe{i}", "given": ["Jo"]}],
                                 "gender": "female", "birthDate": "1970-01-01"}) + "\n")  # fmt: skip
    proc = subprocess.Popen([BIN / "recordroom", "import", "fhir", str(feed)],
                            env=_env(data), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    probe = ("import django; django.setup();"
             "from recordroom.interop.models import ImportRun as R;"
             "print(' '.join(r.status for r in R.objects.all()))")  # fmt: skip

    def statuses():
        out = subprocess.run([BIN / "python", "-c", probe], env=_env(data),
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        return out.stdout.strip()

    try:
        for _ in range(300):
            if statuses() == "running":
                break
            time.sleep(0.2)
        assert statuses() == "running"
    finally:
        proc.kill()  # SIGKILL: no finally block of the importer runs
        proc.wait()
    assert statuses() == "running"
    worker = subprocess.run([BIN / "recordroom", "worker", "--batch"], env=_env(data),
                            capture_output=True, text=True, timeout=180)  # fmt: skip
    assert worker.returncode == 0, worker.stderr
    assert statuses() == "failed"
    check = ("import django; django.setup();"
             "from recordroom.interop.models import ImportRun as R;"
             "from recordroom.audit.models import AuditEvent as A;"
             "print(R.objects.get().reason);"
             "print(A.objects.filter(action='interop.import_abandoned').count())")  # fmt: skip
    out = subprocess.run([BIN / "python", "-c", check], env=_env(data),
                         capture_output=True, text=True, timeout=120).stdout  # fmt: skip
    assert f"pid {proc.pid}" in out and "ended without finishing" in out
    assert out.strip().endswith("1")
