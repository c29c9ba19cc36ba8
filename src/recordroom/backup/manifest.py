"""The backup's manifest (manifest.json): every file's SHA-256 and size, and what the
backup was taken from. It is written last, so a folder without one is not a backup."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from recordroom.kernel.files import FILE_MODE, private_dir, write_private

FORMAT = "recordroom-backup/1"
NAME = "manifest.json"
BLOBS = "blobs"
CHUNK = 1024 * 1024

# progress(stage, done, total): the CLI draws it with Rich.
Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    return None


def file_hash(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy one file (new, mode 0600, fsynced) and return the SHA-256 and size copied."""
    sha, size = hashlib.sha256(), 0
    private_dir(dst.parent)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with src.open("rb") as fin, os.fdopen(fd, "wb") as fout:
        while chunk := fin.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return sha.hexdigest(), size


def blob_files(root: Path) -> Iterator[Path]:
    """The blob files under `root` (xx/<sha256>), skipping unfinished temporaries."""
    if not root.is_dir():
        return
    for sub in sorted(root.iterdir()):
        if sub.is_dir():
            for path in sorted(sub.iterdir()):
                if path.is_file() and not path.name.startswith(".tmp-"):
                    yield path


def write(folder: Path, manifest: dict[str, Any]) -> None:
    write_private(
        folder / NAME, json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n"
    )


def read(folder: Path) -> dict[str, Any]:
    """The manifest of the backup in `folder`; a ValueError says why there is none."""
    path = folder / NAME
    if not path.is_file():
        partial = folder.with_name(folder.name + ".partial")
        hint = (
            f" ({partial} is a backup that was cut short)" if partial.exists() else ""
        )
        raise ValueError(f"{folder} is not a finished backup: it has no {NAME}{hint}")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise ValueError(
            f"{path} has format {manifest.get('format')!r}; this version reads {FORMAT}"
        )
    return manifest


def check(folder: Path, manifest: dict[str, Any], progress: Progress) -> list[str]:
    """Every problem with the files against the manifest (empty when all match)."""
    problems, listed = [], set()
    files = manifest["files"]
    for done, entry in enumerate(files, 1):
        rel = entry["path"]
        listed.add(rel)
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing from the backup")
        else:
            sha, size = file_hash(path)
            if size != entry["size"] or sha != entry["sha256"]:
                problems.append(
                    f"{rel}: altered (SHA-256 {sha}, {size} bytes; the manifest says "
                    f"{entry['sha256']}, {entry['size']} bytes)"
                )
        progress("checking the backup's hashes", done, len(files))
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel != NAME and rel not in listed:
            problems.append(f"{rel}: not in the manifest")
    return problems
