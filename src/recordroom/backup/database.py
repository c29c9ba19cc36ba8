"""The database's part of a backup: SQLite through its online backup API, PostgreSQL
through pg_dump (custom format) on an exported snapshot; and the way back."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from recordroom.kernel.errors import RecordroomError
from recordroom.kernel.files import private_dir

from .manifest import Progress

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
_HEAD_SQL = (
    "SELECT count(*), max(id), "
    "(SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1) FROM audit_auditevent"
)


@dataclass(frozen=True)
class Snapshot:
    file: str
    vendor: str
    server_version: str
    audit: dict[str, Any]


def _audit_head(cur: Any) -> dict[str, Any]:
    cur.execute(_HEAD_SQL)
    count, head_id, head_hash = cur.fetchone()
    return {"count": int(count), "head_id": head_id or 0, "head_hash": head_hash or ""}


def snapshot(folder: Path, progress: Progress) -> Snapshot:
    """Write a consistent copy of the database into `folder` (safe while serving)."""
    if connection.vendor == "sqlite":
        return _snapshot_sqlite(folder, progress)
    if connection.vendor == "postgresql":
        return _snapshot_postgres(folder, progress)
    raise RecordroomError(f"no backup for database vendor {connection.vendor!r}")


def _snapshot_sqlite(folder: Path, progress: Progress) -> Snapshot:
    target = folder / SQLITE_FILE
    source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]), timeout=20)
    copy = sqlite3.connect(str(target))
    try:
        # The online backup API, in one step: a read transaction on one snapshot while
        # the server keeps writing (WAL). Copied in several steps, every write by
        # another connection would restart the copy, which on a busy server might
        # never finish.
        progress("copying the database", 0, 1)
        source.backup(copy, pages=-1)
        progress("copying the database", 1, 1)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        audit = _audit_head(copy.cursor())
        version = sqlite3.sqlite_version
    finally:
        copy.close()
        source.close()
    target.chmod(0o600)
    return Snapshot(SQLITE_FILE, "sqlite", version, audit)


def _client_major(tool: str) -> int:
    path = shutil.which(tool)
    if path is None:
        raise RecordroomError(
            f"{tool} is not installed; install the PostgreSQL client of the server's "
            "version (Debian: apt install postgresql-client-15)"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    if not found:
        raise RecordroomError(f"cannot read the version of {tool}: {out.strip()!r}")
    return int(found.group(1))


def check_client(tool: str, server_major: int) -> None:
    """Refuse a pg_dump/pg_restore whose major version is not the server's."""
    client = _client_major(tool)
    if client != server_major:
        raise RecordroomError(
            f"{tool} is PostgreSQL {client} but the server is PostgreSQL "
            f"{server_major}: install the client of the server's version "
            f"(Debian: apt install postgresql-client-{server_major}) and put it first "
            "on PATH"
        )


def _pg_args() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    extra = {"PGPASSWORD": str(db["PASSWORD"])} if db.get("PASSWORD") else {}
    from recordroom.settings import child_env

    return args, child_env(**extra)


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RecordroomError(
            f"{Path(cmd[0]).name} failed (exit {done.returncode}): "
            f"{done.stderr.strip()[-800:]}"
        )


def _snapshot_postgres(folder: Path, progress: Progress) -> Snapshot:
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        server_major = raw.info.server_version // 10000
        check_client("pg_dump", server_major)
        with raw.cursor() as cur:
            # pg_dump reads the very snapshot the audit head was read in.
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cur.execute(
                "SELECT pg_export_snapshot(), current_setting('server_version')"
            )
            snap, version = cur.fetchone()
            audit = _audit_head(cur)
            progress("dumping the database (pg_dump)", 0, 1)
            args, env = _pg_args()
            _run(
                [
                    shutil.which("pg_dump") or "pg_dump",
                    "--format=custom",
                    f"--snapshot={snap}",
                    f"--file={folder / PG_FILE}",
                    *args,
                    str(settings.DATABASES["default"]["NAME"]),
                ],
                env,
            )
            cur.execute("COMMIT")
            progress("dumping the database (pg_dump)", 1, 1)
    finally:
        raw.close()
    (folder / PG_FILE).chmod(0o600)
    return Snapshot(PG_FILE, "postgresql", str(version), audit)


def target_problems() -> list[str]:
    """Why the configured database cannot take a restore (empty when it can)."""
    if connection.vendor == "sqlite":
        return []
    name = connection.settings_dict["NAME"]
    tables = connection.introspection.table_names()
    if tables:
        return [
            f"the database {name} is not empty ({len(tables)} tables, e.g. "
            f"{', '.join(sorted(tables)[:3])}); restore into a new, empty database"
        ]
    return []


def restore(folder: Path, manifest: dict[str, Any], progress: Progress) -> None:
    """Put the backup's database in place of the (empty) configured one."""
    file = folder / manifest["database"]["file"]
    if connection.vendor == "sqlite":
        target = Path(str(settings.DATABASES["default"]["NAME"]))
        private_dir(target.parent)
        connection.close()
        progress("restoring the database", 0, 1)
        source, copy = sqlite3.connect(str(file)), sqlite3.connect(str(target))
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=WAL")
        finally:
            copy.close()
            source.close()
        target.chmod(0o600)
        progress("restoring the database", 1, 1)
        return
    connection.ensure_connection()
    server_major = connection.connection.info.server_version // 10000  # type: ignore[union-attr]
    check_client("pg_restore", server_major)
    connection.close()
    progress("restoring the database (pg_restore)", 0, 1)
    args, env = _pg_args()
    _run(
        [
            shutil.which("pg_restore") or "pg_restore",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            f"--dbname={settings.DATABASES['default']['NAME']}",
            *args,
            str(file),
        ],
        env,
    )
    progress("restoring the database (pg_restore)", 1, 1)
