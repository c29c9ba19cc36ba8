"""Shared by the benchmarks: Django set-up on a chosen data dir, timing, reporting."""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# The environment running this script (the repository's .venv, or a shared one).
BIN = Path(sys.executable).parent


def setup_django(data_dir: str | Path | None, *, migrate: bool = True) -> None:
    """Point Recordroom at `data_dir` (before settings load), set Django up, migrate."""
    if data_dir is not None:
        path = Path(data_dir).resolve()
        path.mkdir(parents=True, exist_ok=True)
        os.environ["RECORDROOM_DATA_DIR"] = str(path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")
    import django

    django.setup()
    from recordroom.kernel.keys import create_first_time

    create_first_time()  # a new bench folder is a first-time setup: make its keys
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)


def ensure_database() -> None:
    """With RECORDROOM_DATABASE_URL naming a PostgreSQL database, create it if absent."""
    url = os.environ.get("RECORDROOM_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    conninfo = {
        k: v
        for k, v in (
            ("host", cfg.get("HOST")),
            ("port", cfg.get("PORT")),
            ("user", cfg.get("USER")),
            ("password", cfg.get("PASSWORD")),
        )
        if v
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
        name = cfg["NAME"]
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created PostgreSQL database {name}")


def require_population(data_dir: str | Path) -> int:
    """The number of patients in the index, or a clear stop when it is empty.

    The search benchmarks read a population built by bench/patients_1m.py.
    """
    from recordroom.mpi.models import Patient

    total = Patient.objects.count()
    if not total:
        raise SystemExit(
            f"no patients in {data_dir}: build the index first, e.g.\n"
            f"  .venv/bin/python bench/patients_1m.py --patients 100000 "
            f"--data-dir {data_dir}"
        )
    return total


def rerun_command() -> str:
    """The exact command line that ran this benchmark, runnable from the repo root."""
    env = ""
    url = os.environ.get("RECORDROOM_DATABASE_URL")
    if url:
        env = f"RECORDROOM_DATABASE_URL={shlex.quote(url)} "
    script = os.path.relpath(os.path.abspath(sys.argv[0]), REPO)
    args = " ".join(shlex.quote(a) for a in sys.argv[1:])
    return f"{env}.venv/bin/python {script} {args}".strip()


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.node()}: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load {load:.2f}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank), mean and max of a list of milliseconds."""
    s = sorted(samples_ms)
    if not s:
        return {"n": 0}

    def rank(p: float) -> float:
        return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]

    return {
        "n": len(s),
        "mean": statistics.fmean(s),
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": s[-1],
    }


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def print_table(
    title: str,
    rows: list[tuple[str, dict[str, float], dict[str, float] | None]],
    target_ms: float | None,
) -> None:
    """Wall-clock p50/p95/p99/max per case and, when measured, the CPU-time p95.

    CPU time (this thread's, time.thread_time) leaves out waiting for a core: on a
    busy machine the wall-clock figures include that wait, the CPU figure does not.
    """
    print(f"\n{title}")
    head = f"  {'case':<48} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}"
    print(head + f" {'cpu p95':>8}" + ("  target p95" if target_ms else ""))
    for label, st, cpu in rows:
        if not st.get("n"):
            print(f"  {label:<48} {'-':>6}")
            continue
        line = (
            f"  {label:<48} {st['n']:>6} {st['p50']:>7.2f} {st['p95']:>7.2f} "
            f"{st['p99']:>7.2f} {st['max']:>7.2f}"
        )
        line += f" {cpu['p95']:>8.2f}" if cpu and cpu.get("n") else f" {'':>8}"
        if target_ms:
            verdict = "ok" if st["p95"] <= target_ms else "MISSED"
            line += f"  <= {target_ms:g} ms {verdict}"
        print(line)
    print("  (milliseconds; wall clock unless marked cpu)")


def add_target_flag(parser: Any) -> None:
    """--report-only: a missed target is printed but does not fail the run."""
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="exit 0 when a target is missed (smoke runs on a busy machine)",
    )


def footer() -> None:
    print(f"\nmachine: {machine()}")
    print(f"rerun:   {rerun_command()}")
