"""Where the external conformance data is (see ../shared/testdata/README.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(
    os.environ.get("RECORDROOM_CONFORMANCE_DATA", ROOT.parent / "shared/testdata")
)


def folder(name: str) -> Path:
    path = DATA / name
    if not path.is_dir():
        pytest.skip(f"no conformance data at {path} (set RECORDROOM_CONFORMANCE_DATA)")
    return path
