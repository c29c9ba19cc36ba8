"""Keys outside the database: created only by first-time setup; a start that finds data
without its key is refused naming the file (never a new key that makes every document
"altered"). Data files are the service account's only (R-SEC-4 encryption at rest,
file modes)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(args, data_dir):
    env = {**os.environ, "RECORDROOM_DATA_DIR": str(data_dir),
           "DJANGO_SETTINGS_MODULE": "recordroom.settings"}  # fmt: skip
    env.pop("RECORDROOM_DATABASE_URL", None)
    return subprocess.run(
        [str(a) for a in args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def demo(tmp_path):
    data = tmp_path / "data"
    done = run([BIN / "recordroom", "demo", "--patients", "4", "--no-serve"], data)
    assert done.returncode == 0, done.stderr
    return data


def test_init_creates_the_keys(tmp_path):
    data = tmp_path / "data"
    done = run([BIN / "recordroom", "init"], data)
    assert done.returncode == 0, done.stderr
    for name in ("secret.key", "blob.key"):
        assert f"key created: {data / 'keys' / name}" in " ".join(done.stdout.split())
        assert stat.S_IMODE((data / "keys" / name).stat().st_mode) == 0o600
    again = run([BIN / "recordroom", "init"], data)
    assert again.returncode == 0 and "key created" not in again.stdout


def test_a_start_with_a_missing_blob_key_is_refused_naming_it(demo):
    blob_key = demo / "keys" / "blob.key"
    blob_key.unlink()
    for args in (["audit", "verify"], ["serve"], ["init"], ["demo", "--no-serve"]):
        done = run([BIN / "recordroom", *args], demo)
        message = " ".join(done.stderr.split())
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"the key file {blob_key} is missing" in message
        assert "recordroom restore BACKUP --keys KEYS" in message
        assert not blob_key.exists()  # never a new key for existing data
    # The web server's entry point refuses too.
    done = run([BIN / "python", "-c", "import recordroom.wsgi"], demo)
    assert done.returncode != 0 and "MissingKey" in done.stderr
    assert f"the key file {blob_key} is missing" in " ".join(done.stderr.split())


def test_a_new_folder_without_keys_is_told_to_run_init(tmp_path):
    done = run([BIN / "recordroom", "audit", "verify"], tmp_path / "new")
    assert done.returncode == 2
    assert "run `recordroom init`" in " ".join(done.stderr.split())
    assert not (tmp_path / "new" / "keys").exists()


def test_data_files_are_readable_by_the_service_account_only(demo):
    """The data folder, database (and its WAL), blobs, keys, ground truth."""
    # While a connection writes, the WAL and shared-memory files exist: check them too.
    write = (
        "import os, stat, django; django.setup();"
        "from recordroom.audit.services import record;"
        "from recordroom.kernel.actor import Actor;"
        "from django.db import transaction;"
        "record(actor=Actor(channel='cli', name='t'), action='audit.verify');"
        "from django.conf import settings as s; d = s.DATA_DIR;"
        "print(sorted((p, oct(stat.S_IMODE(os.stat(d / p).st_mode))) for p in "
        "os.listdir(d) if p.startswith('recordroom.sqlite3')))"
    )
    done = run([BIN / "python", "-c", write], demo)
    assert done.returncode == 0, done.stderr
    assert "'recordroom.sqlite3-wal', '0o600'" in done.stdout
    modes = {}
    for path in [demo, *demo.rglob("*")]:
        modes[path.relative_to(demo).as_posix()] = oct(
            stat.S_IMODE(path.stat().st_mode)
        )
    assert (
        any(p.startswith("blobs/") for p in modes) and "demo/ground-truth.csv" in modes
    )
    wrong = {
        p: m for p, m in modes.items()
        if m != ("0o700" if (demo / p).is_dir() else "0o600")
    }  # fmt: skip
    assert wrong == {}


NOTHING_USED = {"value": True}


def nothing_used_the_new_key() -> bool:
    return NOTHING_USED["value"]


@pytest.fixture
def upgraded(settings, tmp_path):
    """An installation holding documents, whose new version declares a new key."""
    from recordroom.settings import KeySpec

    settings.DATA_DIR, settings.KEY_DIR = tmp_path, tmp_path / "keys"
    (settings.BLOB_DIR / "ab").mkdir(parents=True)
    (settings.BLOB_DIR / "ab" / ("ab" * 32)).write_bytes(b"RRB1...")
    settings.RECORDROOM_NEW_KEY = ""
    settings.KEYS = (
        *settings.KEYS,
        KeySpec("RECORDROOM_NEW_KEY", "new.key", "", lambda: "fresh", "a new key",
                unused_check=f"{__name__}.nothing_used_the_new_key"),
    )  # fmt: skip
    return settings


def test_a_key_a_later_version_adds_is_created_by_init_only_while_unused(upgraded):
    from recordroom.kernel import keys

    NOTHING_USED["value"] = False
    with pytest.raises(keys.MissingKey, match="new.key is missing"):
        keys.create_first_time(check_database=False)
    keys.check_on_start()  # the start itself is not refused: init must run
    with pytest.raises(keys.MissingKey, match="run `recordroom init` to create them"):
        keys.require()
    NOTHING_USED["value"] = True
    assert keys.create_first_time(check_database=False) == [
        upgraded.KEY_DIR / "new.key"
    ]
    assert upgraded.RECORDROOM_NEW_KEY == "fresh"
    assert (upgraded.KEY_DIR / "new.key").read_text() == "fresh\n"
    keys.require()
