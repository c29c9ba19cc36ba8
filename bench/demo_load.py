"""Benchmark: load the synthetic demo population into a fresh data folder.

Prints wall time per phase, the load rate and the peak resident memory (the main
process and, separately, the largest render worker), then the command to rerun it.

    .venv/bin/python bench/demo_load.py --patients 2000
    .venv/bin/python bench/demo_load.py --patients 100000 --keep
    RECORDROOM_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench \\
        .venv/bin/python bench/demo_load.py --patients 2000

With RECORDROOM_DATABASE_URL set, that database must be empty (create it first).
Not a test: figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=None, help="render processes")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: a temp dir"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="rr-bench-demo-"))
    if (data_dir / "recordroom.sqlite3").exists():
        parser.error(f"{data_dir} already holds a database; give a fresh --data-dir")
    # Settings read the environment once, at Django setup: set it first.
    os.environ["RECORDROOM_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")
    started = time.perf_counter()
    import django

    django.setup()
    from django.core.management import call_command

    from recordroom.kernel.keys import create_first_time

    create_first_time()  # a new bench folder is a first-time setup: make its keys
    from recordroom.demo import create_demo_users, load_demo

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    t1 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - t1, 1e-9)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {done:>7,} / {total:,} people  ({rate:,.0f}/s, peak RSS {rss:,.0f} MiB)",
              file=sys.stderr)  # fmt: skip

    summary = load_demo(
        patients=args.patients, seed=args.seed, data_dir=data_dir, workers=args.workers,
        progress=progress,
    )  # fmt: skip
    t2 = time.perf_counter()
    load_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    create_demo_users()  # one Argon2 hash: ~100 MiB for a moment, after the load
    t3 = time.perf_counter()

    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    main_rss, worker_rss = me.ru_maxrss / 1024, kids.ru_maxrss / 1024
    print(f"demo load benchmark: {args.patients:,} people, seed {args.seed}")
    print(f"  records {summary.patients:,}  encounters {summary.encounters:,}  "
          f"documents {summary.documents:,} (scanned {summary.scanned:,})  "
          f"duplicates {summary.duplicates}  twins {summary.twins}")  # fmt: skip
    print(f"  django setup {t0 - started:6.2f} s")
    print(f"  migrate      {t1 - t0:6.2f} s")
    print(
        f"  load_demo    {t2 - t1:6.2f} s  ({summary.documents / (t2 - t1):,.0f} documents/s)"
    )
    print(f"  demo users   {t3 - t2:6.2f} s")
    print(f"  total        {t3 - started:6.2f} s")
    print(f"  peak RSS: main process {load_rss:,.0f} MiB during the load "
          f"({main_rss:,.0f} MiB with demo users), largest worker {worker_rss:,.0f} MiB")  # fmt: skip
    print(f"  CPU: main {me.ru_utime:.1f} s user + {me.ru_stime:.1f} s sys, workers "
          f"{kids.ru_utime:.1f} s user + {kids.ru_stime:.1f} s sys")  # fmt: skip
    blobs = sum(  # os.walk: pathlib's rglob remembers every path it yielded
        os.path.getsize(os.path.join(root, name))
        for root, _dirs, files in os.walk(data_dir / "blobs") for name in files
    )  # fmt: skip
    print(f"  blob store {blobs / 1048576:,.0f} MiB")
    rerun = f".venv/bin/python bench/demo_load.py --patients {args.patients} --seed {args.seed}"
    print(
        f"rerun: {rerun}"
        + (f" --workers {args.workers}" if args.workers is not None else "")
    )
    if args.keep or args.data_dir:
        print(f"data folder kept: {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
