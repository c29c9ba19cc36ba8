"""Data files readable by the service account only: folders 0700, files 0600.

The entry points (CLI, WSGI, ASGI) set PRIVATE_UMASK at start, so every file the app
or a library creates (the SQLite database and its WAL, blobs, exports, packets) is
private; the helpers here also set the mode explicitly where a folder already exists.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_umask() -> None:
    """Files and folders created from now on by this process are the owner's only."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) as needed and make it mode 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a new file of mode 0600 (refuses to overwrite one that exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
