"""A watched folder (a scanner's or a fax line's): each file is taken once it is
complete (same size and modification time on two polls running), received, then moved
to `done/`, or to `rejected/` with `<name>.reason.txt` beside it. Nothing is deleted."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from recordroom.kernel.actor import Actor
from recordroom.records.models import Facility

from .intake import receive_file
from .models import BatchStatus, CaptureBatch, CaptureSource

DONE, REJECTED = "done", "rejected"
# names a scanner or a copy writes while a file is still arriving
_PARTIAL = (".part", ".tmp", ".crdownload", ".partial", ".filepart")


@dataclass
class Watch:
    """What one folder looked like at the last poll: name -> (size, mtime)."""

    folder: Path
    seen: dict[str, tuple[int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sub in (DONE, REJECTED):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Taken:
    path: Path  # where the file is now (done/ or rejected/)
    batch: CaptureBatch | None
    reason: str = ""


def complete_files(watch: Watch) -> list[Path]:
    """Files that have not changed since the last poll (and are not being written)."""
    now: dict[str, tuple[int, float]] = {}
    for path in sorted(watch.folder.iterdir()):
        if (
            not path.is_file()
            or path.name.startswith(".")
            or path.name.lower().endswith(_PARTIAL)
        ):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # moved away between listing and looking
            continue
        now[path.name] = (stat.st_size, stat.st_mtime)
    ready = [
        watch.folder / name for name, sig in now.items() if watch.seen.get(name) == sig
    ]
    watch.seen = {
        name: sig for name, sig in now.items() if watch.folder / name not in ready
    }
    return ready


def _free(target: Path) -> Path:
    """`target`, or `name-2.ext`, `name-3.ext`... when taken: nothing is overwritten."""
    n, candidate = 1, target
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    return candidate


def _reject(path: Path, reason: str) -> Path:
    target = _free(path.parent / REJECTED / path.name)
    shutil.move(str(path), target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n")
    return target


def take(
    path: Path, *, actor: Actor, source: CaptureSource, facility: Facility | None
) -> Taken:
    """Receive one complete file, then move it out of the watched folder."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = f"{path.name} could not be read ({exc.strerror or type(exc).__name__})"
        return Taken(_reject(path, reason), None, reason)
    batch = receive_file(actor=actor, data=data, filename=path.name, source=source,
                         facility=facility)  # fmt: skip
    if batch.status == BatchStatus.REFUSED:
        return Taken(_reject(path, batch.problem), batch, batch.problem)
    target = _free(path.parent / DONE / path.name)
    shutil.move(str(path), target)
    return Taken(target, batch)


def poll(
    watch: Watch, *, actor: Actor, source: CaptureSource, facility: Facility | None
) -> list[Taken]:
    """One look at the folder: every file found complete is taken."""
    return [take(p, actor=actor, source=source, facility=facility)
            for p in complete_files(watch)]  # fmt: skip
