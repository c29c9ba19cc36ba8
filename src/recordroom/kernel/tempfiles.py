"""Temporary files for PHI: inside the data folder (DATA_DIR/tmp, 0700), never the
system /tmp, created 0600 and removed as soon as they are done with."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

from django.conf import settings


def temp_root() -> Path:
    """DATA_DIR/tmp, created 0700 the first time."""
    root = Path(settings.DATA_DIR) / "tmp"
    if not root.is_dir():
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def use_private_temp_root() -> None:
    """Point Python's tempfile (and every library using it) at DATA_DIR/tmp.

    Only once the data folder holds something: an empty one (a restore's target)
    stays empty until the command that fills it runs.
    """
    data = Path(settings.DATA_DIR)
    if data.is_dir() and any(data.iterdir()):
        tempfile.tempdir = str(temp_root())


def temp_dir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A private (0700) directory under DATA_DIR/tmp, removed when closed."""
    return tempfile.TemporaryDirectory(prefix=prefix, dir=temp_root())


def spool(max_memory: int) -> IO[bytes]:
    """A file kept in memory up to `max_memory` bytes, then an unnamed 0600 file in
    DATA_DIR/tmp (unlinked at creation, so nothing stays behind after a crash)."""
    return tempfile.SpooledTemporaryFile(max_size=max_memory, dir=str(temp_root()))


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to a new file readable by the service account only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
