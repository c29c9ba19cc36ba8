"""Backup and restore services: `recordroom backup`, `keys export`, `restore`."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

import recordroom
from recordroom.audit.chain import verify
from recordroom.audit.services import record
from recordroom.kernel import actions, keys
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import BlobStore
from recordroom.kernel.errors import IntegrityFailure, RecordroomError
from recordroom.kernel.files import private_dir

from . import database, manifest
from .manifest import Progress, no_progress

# Fields that hold the address of a blob: after a restore each must be in the store.
BLOB_REFERENCES = (
    ("records.DocumentVersion", "sha256"),
    ("release.Packet", "sha256"),
    ("release.Letter", "sha256"),
    ("release.Authorization", "scan_sha256"),
    ("interop.InterfaceMessage", "raw_sha256"),
    ("interop.QuarantineItem", "raw_sha256"),
)
# ... unless the row keeps the bytes itself, in this column (an HL7 message's `raw`).
KEPT_INLINE = {"interop.InterfaceMessage": "raw"}


class RestoreFailed(RecordroomError):
    """A backup failed a check; `problems` names each file or event that failed."""

    code = "restore_failed"

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class BackupSummary:
    dest: Path
    files: int
    size: int
    vendor: str
    audit: dict[str, Any]
    keys: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreSummary:
    data_dir: Path
    vendor: str
    taken_at: str
    version: str
    blobs: int
    audit_events: int
    keys: list[str]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_destinations(dest: Path, keys_to: Path | None) -> Path:
    partial = dest.with_name(dest.name + ".partial")
    data_dir = Path(settings.DATA_DIR).resolve()
    if dest.exists():
        raise RecordroomError(
            f"{dest} already exists; give a new folder for the backup"
        )
    if partial.exists():
        raise RecordroomError(
            f"{partial} exists: a backup that was cut short (or one running now); "
            "remove it, then run the backup again"
        )
    if _inside(dest, data_dir):
        raise RecordroomError(
            f"{dest} is inside the data folder {data_dir}; a backup must live apart "
            "from what it backs up"
        )
    if keys_to is not None and (_inside(keys_to, dest) or _inside(keys_to, partial)):
        raise RecordroomError(
            f"--keys-to {keys_to} is inside the backup {dest}: keys are never kept "
            "beside the data they unlock; give a folder elsewhere (another medium)"
        )
    if keys_to is not None and keys_to.exists() and any(keys_to.iterdir()):
        raise RecordroomError(f"--keys-to {keys_to} is not empty; give a new folder")
    return partial


def create_backup(
    *,
    actor: Actor,
    dest: Path,
    keys_to: Path | None = None,
    progress: Progress = no_progress,
) -> BackupSummary:
    """Write a backup of the database and the blob store into the new folder `dest`.

    The backup is built in DEST.partial and renamed when its manifest (written last)
    is complete; a failure removes DEST.partial, so no half backup looks finished.
    Keys are written only with `keys_to`, which must lie outside `dest`.

    Raises:
        RecordroomError: a destination is refused, or the database copy failed.
    """
    dest = dest.resolve()
    keys_to = keys_to.resolve() if keys_to else None
    if keys_to:
        keys.values()  # refuse before writing anything when a key is missing
    partial = _check_destinations(dest, keys_to)
    private_dir(partial)
    try:
        snap = database.snapshot(partial, progress)
        files = [_entry(partial, partial / snap.file)]
        blobs = list(manifest.blob_files(Path(settings.BLOB_DIR)))
        for done, src in enumerate(blobs, 1):
            rel = f"{manifest.BLOBS}/{src.parent.name}/{src.name}"
            sha, size = manifest.copy_hashed(src, partial / rel)
            files.append({"path": rel, "sha256": sha, "size": size})
            progress("copying documents", done, len(blobs))
        body = {
            "format": manifest.FORMAT,
            "recordroom_version": recordroom.__version__,
            "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {
                "vendor": snap.vendor,
                "file": snap.file,
                "server_version": snap.server_version,
            },
            "audit": snap.audit,
            "keys": [spec.file for spec in settings.KEYS],
            "files": files,
        }
        manifest.write(partial, body)
        os.replace(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    written = keys.export(keys_to) if keys_to else []
    total = sum(int(f["size"]) for f in files)
    record(
        actor=actor,
        action=actions.BACKUP_CREATE.name,
        detail={"dest": str(dest), "files": len(files), "bytes": total, **snap.audit},
    )
    if keys_to:
        record(
            actor=actor, action=actions.KEYS_EXPORT.name, detail={"dest": str(keys_to)}
        )
    return BackupSummary(dest, len(files), total, snap.vendor, snap.audit, written)


def _entry(folder: Path, path: Path) -> dict[str, Any]:
    sha, size = manifest.file_hash(path)
    return {"path": path.relative_to(folder).as_posix(), "sha256": sha, "size": size}


def export_keys(*, actor: Actor, dest: Path) -> list[Path]:
    """Write every key into the new folder `dest` (0700, files 0600), audited.

    Raises:
        RecordroomError: `dest` lies inside a backup (keys never go beside the data).
    """
    dest = dest.resolve()
    for folder in dest.parents:
        if (folder / manifest.NAME).is_file() or folder.name.endswith(".partial"):
            raise RecordroomError(
                f"{dest} is inside the backup {folder}: keys are never kept beside "
                "the data they unlock; give a folder elsewhere (another medium)"
            )
    written = keys.export(dest)
    record(actor=actor, action=actions.KEYS_EXPORT.name, detail={"dest": str(dest)})
    return written


def _target_problems(body: dict[str, Any]) -> list[str]:
    data_dir = Path(settings.DATA_DIR)
    problems = []
    if data_dir.exists() and any(data_dir.iterdir()):
        entries = ", ".join(sorted(p.name for p in data_dir.iterdir())[:5])
        problems.append(
            f"the data folder {data_dir} is not empty ({entries}); restore into a "
            "new, empty folder (set RECORDROOM_DATA_DIR)"
        )
    vendor = body["database"]["vendor"]
    if vendor != connection.vendor:
        problems.append(
            f"the backup holds a {vendor} database but this installation is "
            f"configured for {connection.vendor} (RECORDROOM_DATABASE_URL)"
        )
    elif not problems:
        problems += database.target_problems()
    return problems


def _blob_problems(root: Path, progress: Progress) -> tuple[int, list[str]]:
    """Decrypt every blob under `root` and check it against its address."""
    store, problems = BlobStore(root), []
    files = list(manifest.blob_files(root))
    for done, path in enumerate(files, 1):
        try:
            store.get(path.name)
        except IntegrityFailure as exc:
            problems.append(f"{manifest.BLOBS}/{path.parent.name}/{path.name}: {exc}")
        progress("decrypting documents", done, len(files))
    return len(files), problems


def restore_backup(
    *, actor: Actor, src: Path, keys_src: Path | None = None,
    progress: Progress = no_progress,
) -> RestoreSummary:  # fmt: skip
    """Restore the backup in `src` into this (empty) data folder and database.

    Checks before writing anything: the manifest's hashes, the target is empty, the
    keys are there and decrypt every document. Then restores the database, documents
    and keys, and verifies the audit chain and that every document the database
    names is in the store.

    Raises:
        RestoreFailed: each problem named; nothing is written when a check before
            writing fails.
    """
    src = src.resolve()
    try:
        body = manifest.read(src)
    except ValueError as exc:
        raise RestoreFailed(str(exc), []) from None
    problems = _target_problems(body)
    if problems:
        raise RestoreFailed("the target of the restore is refused", problems)
    problems = manifest.check(src, body, progress)
    if problems:
        raise RestoreFailed(f"the backup {src} failed its manifest check", problems)
    key_values = _keys_for_restore(keys_src)
    for setting, value in key_values.items():
        setattr(settings, setting, value)  # in memory only until the checks pass
    blobs, problems = _blob_problems(src / manifest.BLOBS, progress)
    if problems:
        raise RestoreFailed(
            "documents in the backup do not decrypt with these keys", problems
        )
    private_dir(Path(settings.DATA_DIR))
    written = keys.install(key_values) if keys_src else []
    database.restore(src, body, progress)
    store_root = private_dir(Path(settings.BLOB_DIR))
    for done, path in enumerate(manifest.blob_files(src / manifest.BLOBS), 1):
        manifest.copy_hashed(path, store_root / path.parent.name / path.name)
        progress("restoring documents", done, blobs)
    events = _verify_restored(body, progress)
    record(
        actor=actor,
        action=actions.BACKUP_RESTORE.name,
        detail={"src": str(src), "taken_at": body["taken_at"], **body["audit"]},
    )
    return RestoreSummary(
        Path(settings.DATA_DIR), body["database"]["vendor"], body["taken_at"],
        body["recordroom_version"], blobs, events, [str(p) for p in written],
    )  # fmt: skip


def _keys_for_restore(keys_src: Path | None) -> dict[str, str]:
    if keys_src is not None:
        try:
            return keys.read_folder(keys_src.resolve())
        except keys.MissingKey as exc:
            raise RestoreFailed(exc.message, []) from None
    absent = keys.missing()
    if absent:
        names = ", ".join(spec.file for spec in absent)
        raise RestoreFailed(
            f"the keys {names} are needed: give --keys with the folder `recordroom "
            "keys export` (or `backup --keys-to`) wrote",
            [f"{spec.file}: no key given" for spec in absent],
        )
    return {}


def _verify_restored(body: dict[str, Any], progress: Progress) -> int:
    """Check the restored database: the audit chain, and every blob it names."""
    from django.apps import apps

    problems = []
    progress("verifying the audit chain", 0, 1)
    result = verify()
    progress("verifying the audit chain", 1, 1)
    head = body["audit"]
    if not result.intact:
        problems.append(
            f"audit chain broken at event {result.broken_id}: {result.reason}"
        )
    elif result.count < head["count"]:
        problems.append(
            f"audit chain has {result.count} events; the backup was taken at "
            f"{head['count']}"
        )
    elif head["head_id"]:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT hash FROM audit_auditevent WHERE id = %s", [head["head_id"]]
            )
            row = cur.fetchone()
        if row is None or row[0] != head["head_hash"]:
            problems.append(
                f"audit event {head['head_id']} is not the head the manifest names "
                f"({head['head_hash']})"
            )
    store = BlobStore(Path(settings.BLOB_DIR))
    for label, name in BLOB_REFERENCES:
        model = apps.get_model(label)
        rows = model.objects.exclude(**{name: ""})
        if label in KEPT_INLINE:  # rows holding their bytes name no blob
            rows = rows.filter(**{f"{KEPT_INLINE[label]}__isnull": True})
        shas = rows.values_list(name, flat=True)
        for sha in shas.distinct().iterator():
            if not store.exists(sha):
                problems.append(f"{label} names blob {sha}, which is not in the backup")
    if problems:
        raise RestoreFailed(
            f"the restored data in {settings.DATA_DIR} failed verification; do not "
            "serve it",
            problems,
        )
    return result.count
