"""Every benchmark in bench/ runs at a tiny size and prints its figures.

A smoke run, not a measurement: each script runs as a subprocess on a fresh data
folder, in seconds, and the test asserts only that it exits 0 and prints its
figures and its rerun line, so that no benchmark rots unnoticed when the schema or
a service changes. Targets are not judged here (--report-only): the machine running
the suite is busy. SQLite benchmarks run in the SQLite pass; the PostgreSQL legs run
only in the PostgreSQL pass, on a database of their own that is dropped after.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
TIMEOUT_S = 240  # per script: generous, a shared 2-core machine can be slow


@dataclass(frozen=True)
class Smoke:
    script: str  # path under bench/
    args: str  # split on spaces; {tmp} is this module's temporary folder
    figures: str  # a line every successful run prints
    database: str = "sqlite"  # or "postgresql": runs only in the PostgreSQL pass
    needs: tuple[str, ...] = field(default=())  # scripts whose data folder it reads
    seed: bool = False  # start from a copy of a migrated data folder (saves a migrate)


POP = "--data-dir {tmp}/population"
VENV = Path(sys.executable).parent.parent
# fmt: off
SMOKES = (
    Smoke("patients_1m.py", f"--patients 400 --batch 200 {POP}", "patients/s",
          seed=True),
    Smoke("search.py", f"{POP} --queries 5 --warmup 1", "p95",
          needs=("patients_1m.py",)),
    Smoke("http_api.py", f"{POP} --queries 5 --warmup 1 --workers 1",
          "HTTP API over 400 patients", needs=("patients_1m.py",)),
    Smoke("fhir_search.py", f"{POP} --queries 3 --warmup 1 --workers 1 --report-only",
          "GET /fhir/R4/Patient", needs=("patients_1m.py",)),
    Smoke("audit.py", "--data-dir {tmp}/audit --events 2000 --batch 500 "
          "--verify-runs 1 --iterations 20", "events/s", seed=True),
    Smoke("demo_load.py", "--patients 20 --workers 1 --data-dir {tmp}/demo",
          "load_demo"),
    Smoke("fhir_export.py", "--data-dir {tmp}/export --patients 10", "NDJSON",
          seed=True),
    Smoke("fhir_import.py", "--data-dir {tmp}/import --copies 1 --bundles 2 "
          "--report-only", "kept resources per second"),
    Smoke("hl7_adt.py", "--data-dir {tmp}/hl7 --messages 20 --warmup 4 "
          "--database sqlite --report-only", "messages per second"),
    Smoke("roi_accounting.py", "--data-dir {tmp}/aod --disclosures 40 --excluded 10 "
          "--runs 1", "disclosures", seed=True),
    Smoke("roi_packet.py", "--data-dir {tmp}/roi --pages 12 --doc-pages 4",
          "pages in packet", seed=True),
    Smoke("mpi/dashboard.py", "--patients 200 --data-dir {tmp}/dash --repeat 1",
          "p95", seed=True),
    Smoke("mpi/linkage.py", "--people 100 --data-dir {tmp}/link --searches 3 "
          "--splink-searches 2", "precision", seed=True),
    Smoke("mpi/pseudopeople.py", "--people 120 --data-dir {tmp}/pseudo --report-only",
          "precision", seed=True),
    Smoke("capture/generate.py", "--data-dir {tmp}/capgen --pages 12 --patients 10",
          "pages generated", seed=True),
    Smoke("capture/accuracy.py", "--data-dir {tmp}/capacc --pages 12 --patients 10 "
          "--report-only", "ground truth:", seed=True),
    Smoke("capture/accuracy.py", "--data-dir {tmp}/capacct --pages 12 --patients 10 "
          "--text-layer --report-only", "document-type accuracy", seed=True),
    Smoke("capture/ocr.py", "--work {tmp}/capocr --pages 2 --memory-pages 2 "
          "--modes plain --report-only", "tesseract alone"),
    Smoke("capture/ocr_quality.py", "--work {tmp}/capq --pages 6 --max-pages 1 "
          "--report-only", "OCR quality on"),
    Smoke("capture/rescore.py", "--data-dir {tmp}/caprescore", "rescored 0 batches"),
    Smoke("capture/reading.py", "--documents 2 --patients 6 --data-dir {tmp}/capread",
          "patient proposed right", seed=True),
    Smoke("capture_dashboard.py", "--data-dir {tmp}/capdash --pages 50 --runs 1",
          "pages received", seed=True),
    Smoke("capture_fax_memory.py", "--pages 3", "peak memory"),
    Smoke("completion.py", "--data-dir {tmp}/completion --discharges 20 --samples 3 "
          "--report-only", "open deficiencies by kind", seed=True),
    Smoke("completion_inbox.py", "--data-dir {tmp}/inbox --discharges 20 "
          "--deficiencies 30 --requests 3 --warmup 1 --report-only",
          "Provider inbox over HTTP", seed=True),
    Smoke("completion_delinquency.py", "--data-dir {tmp}/delinq --discharges 20 "
          "--runs 1 --report-only", "letters to providers", seed=True),
    Smoke("fulltext.py", "--data-dir {tmp}/fts --pages 60 --queries 2",
          "search inside documents over", seed=True),
    Smoke("coding_group.py", "--data-dir {tmp}/coding --claims 200 --rounds 1 "
          "--report-only", "with all edits", seed=True),
    Smoke("coding_search.py", "--data-dir {tmp}/coding --queries 1 --warmup 1 "
          "--report-only", "all queries", needs=("coding_group.py",)),
    Smoke("make_demo.sh", f"--venv {VENV} --patients 15",
          "clean checkout to serving"),
    Smoke("audit.py", "--data-dir {tmp}/audit-pg --events 1000 --batch 500 "
          "--verify-runs 1 --skip-overhead", "events/s", database="postgresql"),
    Smoke("hl7_adt.py", "--data-dir {tmp}/hl7 --messages 20 --warmup 4 "
          "--database postgresql --connections 2 --report-only", "messages per second",
          database="postgresql"),
)
# fmt: on


def _benchmarks() -> set[str]:
    """Every benchmark script under bench/ (helpers start with `_`)."""
    return {
        str(p.relative_to(BENCH))
        for p in BENCH.rglob("*")
        if p.suffix in (".py", ".sh") and not p.name.startswith("_")
    }


def test_every_benchmark_has_a_smoke_run():
    assert _benchmarks() == {s.script for s in SMOKES}


def _has(module: str) -> bool:
    """The optional package is installed (the `bench` extra brings Splink and
    pseudopeople)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _has_splink() -> bool:
    return _has("splink")


# Scripts that need an optional package to run at all: without it they are skipped,
# saying so.
NEEDS_PACKAGE = {"mpi/pseudopeople.py": "pseudopeople"}


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


@pytest.fixture(scope="module")
def bench_tmp(tmp_path_factory):
    """The module's folder; at the end, the CPU its benchmarks used (-s shows it)."""
    cpu, wall = _children_cpu(), time.monotonic()
    yield tmp_path_factory.mktemp("bench-smoke")
    print(f"\nbenchmark smoke runs: {time.monotonic() - wall:.0f} s wall, "
          f"{_children_cpu() - cpu:.0f} s CPU")  # fmt: skip


@pytest.fixture(scope="module")
def migrated(bench_tmp) -> Path:
    """A data folder migrated once, copied to each benchmark that starts from one."""
    folder = bench_tmp / "migrated"
    code = f"import _common; _common.setup_django({str(folder)!r})"
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(None), cwd=BENCH,
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


@pytest.fixture(scope="module")
def bench_database():
    """In the PostgreSQL pass: a database for the benchmarks, dropped at the end."""
    if not POSTGRES:
        yield None
        return
    import psycopg

    url = os.environ["RECORDROOM_DATABASE_URL"]
    cfg = dj_database_url.parse(url)
    name = f"{cfg['NAME']}_bench_smoke"
    yield url.rsplit("/", 1)[0] + "/" + name
    base = url.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_ran: dict[str, str] = {}  # script -> output of its SQLite run, for `needs`


def _env(database_url: str | None) -> dict[str, str]:
    """This tree's code first on the path; the database only when given."""
    env = {k: v for k, v in os.environ.items() if k != "RECORDROOM_DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    env.setdefault(
        "RECORDROOM_CONFORMANCE_DATA", str(REPO.parent / "shared" / "testdata")
    )
    if database_url:
        env["RECORDROOM_DATABASE_URL"] = database_url
    return env


def _run(
    smoke: Smoke, tmp: Path, database_url: str | None, migrated: Path | None = None
) -> str:
    env = _env(database_url)
    env["RECORDROOM_DATA_DIR"] = str(tmp / "data")  # for whatever takes no --data-dir
    script = BENCH / smoke.script
    cmd = [str(script)] if script.suffix == ".sh" else [sys.executable, str(script)]
    args = smoke.args.format(tmp=tmp).split()
    if smoke.seed and migrated is not None:
        target = Path(args[args.index("--data-dir") + 1])
        if not target.exists():
            shutil.copytree(migrated, target)
    if smoke.script in ("mpi/linkage.py", "mpi/pseudopeople.py") and not _has_splink():
        args.append("--skip-splink")
    started, cpu = time.monotonic(), _children_cpu()
    done = subprocess.run(
        [*cmd, *args], env=env, cwd=REPO, capture_output=True, text=True,
        timeout=TIMEOUT_S,
    )  # fmt: skip
    took, cpu = time.monotonic() - started, _children_cpu() - cpu
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{smoke.script} exited {done.returncode}:\n{out}"
    assert smoke.figures in out, f"{smoke.script} printed no figures:\n{out}"
    assert "rerun:" in out, f"{smoke.script} printed no rerun line:\n{out}"
    print(f"{smoke.script}: {took:.1f} s wall, {cpu:.1f} s CPU")
    return out


@pytest.mark.parametrize(
    "smoke",
    [s for s in SMOKES if s.database == "sqlite"],
    ids=lambda s: s.script,
)
def test_benchmark_runs_at_a_tiny_size_on_sqlite(smoke, bench_tmp, request):
    if POSTGRES:
        pytest.skip("SQLite benchmarks run in the SQLite pass")
    package = NEEDS_PACKAGE.get(smoke.script)
    if package and not _has(package):
        pytest.skip(
            f"bench/{smoke.script} skipped: {package} is not installed "
            '(pip install -e ".[bench]")'
        )
    missing = [n for n in smoke.needs if n not in _ran]
    if missing:
        pytest.skip(f"needs the data of {', '.join(missing)}, which did not run")
    migrated = request.getfixturevalue("migrated") if smoke.seed else None
    out = _run(smoke, bench_tmp, None, migrated)
    _ran[smoke.script] = out
    if smoke.script == "mpi/linkage.py" and not _has_splink():
        warnings.warn(
            "bench/mpi/linkage.py ran without its Splink comparison: the bench "
            'extra is not installed (pip install -e ".[bench]")',
            stacklevel=1,
        )


@pytest.mark.parametrize(
    "smoke",
    [s for s in SMOKES if s.database == "postgresql"],
    ids=lambda s: s.script,
)
def test_benchmark_runs_at_a_tiny_size_on_postgresql(smoke, bench_tmp, bench_database):
    if not POSTGRES:
        pytest.skip("the PostgreSQL legs run in the PostgreSQL pass")
    _run(smoke, bench_tmp, bench_database)
