"""Restore drill (R-SEC-3 contingency plan: data backup and disaster recovery): back a
small installation up, restore it into an empty folder, and get the same record back.

The CLI runs as separate processes, on the database of this pass: SQLite, or with
RECORDROOM_DATABASE_URL a PostgreSQL server, where the test creates and drops its two
databases.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import psycopg
import pytest

BIN = Path(sys.executable).parent
PG_URL = os.environ.get("RECORDROOM_DATABASE_URL", "")

pytestmark = pytest.mark.slow

# What must survive a restore: every patient, one document's bytes, the audit chain.
STATE = """
import hashlib, json, django; django.setup()
from recordroom.audit.models import AuditEvent
from recordroom.kernel.blobs import default_store
from recordroom.mpi.models import Patient
from recordroom.records.models import DocumentVersion
version = DocumentVersion.objects.order_by("id").first()
data = default_store().get(version.sha256)
print(json.dumps({
    "patients": [[str(p.id), str(p.birth_date), p.sex, str(p.names.first())]
                 for p in Patient.objects.order_by("id")],
    "document": [str(version.id), hashlib.sha256(data).hexdigest(), len(data)],
    "audit": list(AuditEvent.objects.order_by("id").values_list("id", "hash")),
}))
"""


class Installation:
    """A data folder (and on PostgreSQL a database of its own) the CLI runs against."""

    def __init__(self, folder: Path, database: str | None) -> None:
        self.folder, self.database = folder, database

    def env(self) -> dict[str, str]:
        env = {**os.environ, "RECORDROOM_DATA_DIR": str(self.folder),
               "DJANGO_SETTINGS_MODULE": "recordroom.settings"}  # fmt: skip
        env.pop("RECORDROOM_DATABASE_URL", None)
        if self.database:
            env["RECORDROOM_DATABASE_URL"] = _pg_url(self.database)
        return env

    def run(self, *args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args], env=self.env(), capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip

    def cli(self, *args: object) -> subprocess.CompletedProcess[str]:
        return self.run(BIN / "recordroom", *args)

    def state(self) -> dict[str, object]:
        done = self.run(BIN / "python", "-c", STATE)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _pg_url(name: str) -> str:
    cfg = dj_database_url.parse(PG_URL)
    auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else "")
    return f"postgres://{auth}@{cfg['HOST']}:{cfg['PORT'] or 5432}/{name}"


def _admin(sql: str) -> None:
    with psycopg.connect(
        _pg_url("postgres").replace("postgres://", "postgresql://", 1),
        autocommit=True,
    ) as conn:
        conn.execute(sql)


@pytest.fixture
def installations(tmp_path):
    """make(name) -> an Installation on a new folder (and new empty database)."""
    made: list[str] = []

    def make(name: str) -> Installation:
        database = None
        if PG_URL:
            database = f"rr_drill_{name}_{uuid.uuid4().hex[:8]}"
            _admin(f'CREATE DATABASE "{database}"')
            made.append(database)
        return Installation(tmp_path / name, database)

    yield make
    for database in made:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture
def source(installations):
    """A small installation: synthetic patients, documents (blobs), audit events."""
    src = installations("src")
    done = src.cli("demo", "--patients", "6", "--seed", "3", "--no-serve")
    assert done.returncode == 0, done.stderr
    return src


def _modes(folder: Path) -> set[tuple[str, str]]:
    """(kind, octal mode) of everything under `folder`, itself included."""
    found = {("dir", oct(stat.S_IMODE(folder.stat().st_mode)))}
    for path in folder.rglob("*"):
        kind = "dir" if path.is_dir() else "file"
        found.add((kind, oct(stat.S_IMODE(path.stat().st_mode))))
    return found


def test_restore_drill_gives_back_the_same_patients_document_and_audit_chain(
    source, installations, tmp_path
):
    before = source.state()
    assert len(before["patients"]) >= 6 and before["audit"]
    backup, keys = tmp_path / "backup", tmp_path / "keys"
    done = source.cli("backup", backup, "--keys-to", keys)
    assert done.returncode == 0, done.stderr
    assert "backup written to" in done.stdout
    manifest = json.loads((backup / "manifest.json").read_text())
    vendor = "postgresql" if PG_URL else "sqlite"
    assert manifest["database"]["vendor"] == vendor
    assert manifest["audit"]["count"] == len(before["audit"])
    assert manifest["audit"]["head_hash"] == before["audit"][-1][1]
    assert {f["path"].split("/")[0] for f in manifest["files"]} == {
        manifest["database"]["file"],
        "blobs",
    }
    # The keys are not beside the data; what was written is the owner's only.
    assert not list(backup.rglob("*.key"))
    assert sorted(p.name for p in keys.iterdir()) == [
        "audit-signing.key", "audit.key", "blob.key", "secret.key"
    ]
    assert _modes(backup) | _modes(keys) == {("dir", "0o700"), ("file", "0o600")}
    assert not (tmp_path / "backup.partial").exists()

    target = installations("restored")
    done = target.cli("restore", backup, "--keys", keys)
    assert done.returncode == 0, done.stderr
    summary = " ".join(done.stdout.split())
    assert f"audit chain: intact, {len(before['audit'])} events" in summary
    after = target.state()
    assert after["patients"] == before["patients"]
    assert after["document"] == before["document"]
    # The same chain, followed by the restore's own event.
    assert after["audit"][: len(before["audit"])] == before["audit"]
    assert len(after["audit"]) == len(before["audit"]) + 1
    verify = target.cli("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert _modes(target.folder) == {("dir", "0o700"), ("file", "0o600")}


def test_a_tampered_document_in_the_backup_is_caught_and_nothing_restored(
    source, installations, tmp_path
):
    backup = tmp_path / "backup"
    assert source.cli("backup", backup).returncode == 0
    assert source.cli("keys", "export", tmp_path / "keys").returncode == 0
    blob = sorted((backup / "blobs").rglob("*"))[-1]
    raw = bytearray(blob.read_bytes())
    raw[-1] ^= 0x01
    blob.write_bytes(bytes(raw))
    target = installations("restored")
    done = target.cli("restore", backup, "--keys", tmp_path / "keys")
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    rel = blob.relative_to(backup).as_posix()
    assert "failed its manifest check" in message and f"{rel}: altered" in message
    assert not target.folder.exists()


def test_restore_without_the_keys_is_refused_naming_them(
    source, installations, tmp_path
):
    backup, keys = tmp_path / "backup", tmp_path / "keys"
    assert source.cli("backup", backup, "--keys-to", keys).returncode == 0
    target = installations("restored")
    done = target.cli("restore", backup)
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert "the keys secret.key, blob.key, audit.key, audit-signing.key are needed" in message
    (keys / "blob.key").unlink()
    done = target.cli("restore", backup, "--keys", keys)
    assert done.returncode == 1
    assert f"lacks {keys / 'blob.key'}" in " ".join(done.stderr.split())
    assert not target.folder.exists()


def test_restore_refuses_a_data_folder_that_is_not_empty(source, tmp_path):
    backup, keys = tmp_path / "backup", tmp_path / "keys"
    assert source.cli("backup", backup, "--keys-to", keys).returncode == 0
    done = source.cli("restore", backup, "--keys", keys)
    assert done.returncode == 1
    assert f"the data folder {source.folder} is not empty" in " ".join(
        done.stderr.split()
    )
    if PG_URL:  # an empty folder, but the database is the source's, full
        elsewhere = Installation(tmp_path / "empty", source.database)
        done = elsewhere.cli("restore", backup, "--keys", keys)
        assert done.returncode == 1
        message = " ".join(done.stderr.split())
        assert f"the database {source.database} is not empty" in message
        assert not elsewhere.folder.exists()


def test_backup_never_writes_keys_inside_the_backup(source, tmp_path):
    backup = tmp_path / "backup"
    done = source.cli("backup", backup, "--keys-to", backup / "keys")
    assert done.returncode == 1
    assert "is inside the backup" in " ".join(done.stderr.split())
    assert not backup.exists() and not (tmp_path / "backup.partial").exists()
    assert source.cli("backup", backup).returncode == 0
    done = source.cli("keys", "export", backup / "blobs" / "keys")
    assert done.returncode == 1
    assert f"is inside the backup {backup}" in " ".join(done.stderr.split())
    assert not (backup / "blobs" / "keys").exists()


def test_a_failed_backup_leaves_nothing_that_looks_complete(source, tmp_path):
    # A document the disk cannot read (EIO) half-way through the copy.
    bad = source.folder / "blobs" / "ff" / ("f" * 64)
    bad.parent.mkdir(exist_ok=True)
    bad.symlink_to("/proc/self/mem")
    backup = tmp_path / "backup"
    done = source.cli("backup", backup)
    assert done.returncode != 0
    assert not backup.exists() and not (tmp_path / "backup.partial").exists()


WRITER = """
import sys, time, django; django.setup()
from recordroom.audit.services import record
from recordroom.kernel.actor import Actor
actor = Actor(channel="cli", name="writer")
print("ready", flush=True)
while True:
    record(actor=actor, action="audit.verify", detail={"t": time.time()})
    time.sleep(0.005)
"""


def test_a_backup_taken_while_the_server_writes_is_consistent(
    source, installations, tmp_path
):
    writer = subprocess.Popen(
        [str(BIN / "python"), "-c", WRITER], env=source.env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert writer.stdout.readline().strip() == "ready"
        backup, keys = tmp_path / "backup", tmp_path / "keys"
        done = source.cli("backup", backup, "--keys-to", keys)
        assert done.returncode == 0, done.stderr
    finally:
        writer.terminate()
        writer.communicate(timeout=30)
    after_backup = len(source.state()["audit"])
    manifest = json.loads((backup / "manifest.json").read_text())
    target = installations("restored")
    done = target.cli("restore", backup, "--keys", keys)
    assert done.returncode == 0, done.stderr
    restored = target.state()["audit"]
    # The snapshot is one moment: the chain up to the manifest's head, intact, while
    # the source went on writing after it.
    assert restored[manifest["audit"]["count"] - 1][1] == manifest["audit"]["head_hash"]
    assert len(restored) == manifest["audit"]["count"] + 1 < after_backup + 1
    assert target.cli("audit", "verify").returncode == 0
