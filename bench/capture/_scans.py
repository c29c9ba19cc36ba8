"""Shared by the capture benchmarks: a demo population in a data folder (loaded once)
and a generated set of scanned batches with ground truth (reused when the same
seed and size were generated before)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # noqa: E402


def ensure_demo(data_dir: Path, *, patients: int, seed: int) -> int:
    """Set Django up on `data_dir`, load the demo population there unless a load is
    already there; the number of patients in the index."""
    _common.setup_django(data_dir)
    from recordroom.demo import load_demo
    from recordroom.mpi.models import Patient

    summary = load_demo(patients=patients, seed=seed, data_dir=Path(data_dir))
    if not summary.already_loaded:
        print(f"loaded the demo: {summary.patients:,} patient records, "
              f"{summary.encounters:,} encounters in {summary.seconds:.1f} s")  # fmt: skip
    return Patient.objects.count()


def generated(out: Path, *, pages: int, seed: int, processes: int,
              population: Any) -> dict[str, Any]:  # fmt: skip
    """The set in `out` (its manifest), generating it unless the same one is there."""
    from recordroom.demo.scans import generate

    manifest = out / "manifest.json"
    if manifest.exists():
        found: dict[str, Any] = json.loads(manifest.read_text())
        if found.get("seed") == seed and found.get("requested") == pages:
            print(f"reusing {found['pages']:,} generated pages in {out}")
            return found

    def progress(done: int, total: int) -> None:
        print(f"  {done:>6,} / {total:,} pages", file=sys.stderr)

    result = generate(population(), out, seed=seed, pages=pages, processes=processes,
                      progress=progress)  # fmt: skip
    found = json.loads(manifest.read_text())
    found.update(requested=pages, seconds=result.seconds)
    manifest.write_text(json.dumps(found, indent=1))
    print(f"generated {result.pages:,} pages ({result.documents:,} documents, "
          f"{len(result.files)} batches) in {result.seconds:.1f} s: "
          f"{result.pages_per_second:.1f} pages/s with {processes} processes")  # fmt: skip
    return found


def truths(out: Path) -> dict[str, dict[str, Any]]:
    """Every batch's ground truth, by file name."""
    found = {}
    for path in sorted(out.glob("*.truth.json")):
        t = json.loads(path.read_text())
        found[t["file"]] = t
    return found
