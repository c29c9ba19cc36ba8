"""Benchmark and tool: write N pages (default 2,000) of mixed scanned batches with
ground truth, from a demo population loaded into a data folder.

    .venv/bin/python bench/capture/generate.py --data-dir /tmp/rr-cap --pages 2000

Loads the demo (`--patients`, default 300) into `--data-dir` unless it is there,
then writes the batches (PDF, CCITT G4 TIFF, PNG, JPEG) and one `<batch>.truth.json`
each into `--out` (default `<data dir>/scans`), and `manifest.json`. Prints the
generation rate (pages/s with `--processes` workers), the formats and the realism
features counted over the pages, and the rerun command. Deterministic from --seed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # noqa: E402
import _scans  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--pages", type=int, default=2000)
    p.add_argument("--patients", type=int, default=300)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--fresh", action="store_true", help="regenerate even if present")
    args = p.parse_args()
    out = args.out or args.data_dir / "scans"
    if args.fresh and out.exists():
        shutil.rmtree(out)
    _scans.ensure_demo(args.data_dir, patients=args.patients, seed=args.seed)
    from recordroom.demo.scans import original_records, population_from_db

    manifest = _scans.generated(
        out, pages=args.pages, seed=args.seed, processes=args.processes,
        population=lambda: population_from_db(
            limit=None, only=original_records(args.data_dir)
        ),
    )  # fmt: skip
    print(f"\ncapture test data: {manifest['pages']:,} pages generated, "
          f"{manifest['documents']:,} documents in {len(manifest['batches'])} batches, "
          f"{manifest.get('seconds', 0):.1f} s "
          f"({manifest['pages'] / max(manifest.get('seconds', 0), 1e-9):.1f} pages/s)")  # fmt: skip
    print("  formats (batches): " + ", ".join(
        f"{k} {v}" for k, v in sorted(manifest["formats"].items())))  # fmt: skip
    print("  features (pages):  " + ", ".join(
        f"{k} {v}" for k, v in sorted(manifest["features"].items())))  # fmt: skip
    print(f"  written to {out}")
    _common.footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
