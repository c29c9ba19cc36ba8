"""FHIR Patient search latency at 1M patients, against the real server (gunicorn).

    .venv/bin/python bench/fhir_search.py --data-dir /tmp/rr-bench-1m --queries 1000

Needs a population built by bench/patients_1m.py. Starts gunicorn as
bench/http_api.py does (`-w 2 --threads 4 -k gthread`, the same `benchuser` with
every facility in scope and a fresh API token) and sends GET /fhir/R4/Patient?...
one after another on one keep-alive connection. Five kinds of search, drawn from
real rows (seeded): family + given + birthdate, identifier system|MRN, family alone
(a common surname, _count=20), name prefix (3+ letters of a surname) and birthdate +
gender. Each search is audited by the server (patient.search), as in production.
Prints p50/p95/p99 per kind and overall and exits 1 if a p95 exceeds 50 ms.
--in-process also times the same requests through the Django stack in this process
(with CPU time); --explain prints the SQL and plan of one search of each kind.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import _common
import http_api

TARGET_MS = 50.0
BASE = "/fhir/R4/Patient?"

Row = tuple[str, dict[str, float], dict[str, float] | None]
Send = Callable[[str], tuple[float, float | None, Any]]


@dataclass(frozen=True)
class Kind:
    label: str
    params: list[dict[str, str]]
    expect: list[str | None]  # a patient id the Bundle must hold (None: no check)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--queries", type=int, default=1000, help="per kind of search")
    p.add_argument("--warmup", type=int, default=100, help="unmeasured, per kind")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--only", default="", help="run only kinds whose label has this")
    p.add_argument(
        "--in-process",
        action="store_true",
        help="also time the requests through django.test.Client (with CPU time)",
    )
    p.add_argument("--explain", action="store_true", help="print query plans")
    p.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    _common.add_target_flag(p)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    data_dir = str(Path(args.data_dir).resolve())
    env = {**os.environ, "RECORDROOM_DATA_DIR": data_dir}
    _common.setup_django(data_dir)

    patients = _common.require_population(data_dir)
    kinds = build_kinds(random.Random(args.seed), args.queries + args.warmup)
    kinds = [k for k in kinds if args.only in k.label]
    auth = f"Bearer {http_api.ensure_token(env)}"
    if args.explain:
        explain(kinds, auth)
    audited_before = _search_events()
    port = args.port or http_api.free_port()
    headers = {"Authorization": auth, "Connection": "keep-alive"}
    with http_api.gunicorn(port, env, args.workers):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        rows = run_kinds(kinds, args.warmup, lambda p: http_api.get(conn, p, headers))
        conn.close()
    sent = sum(len(k.params) for k in kinds)
    print(f"FHIR Patient search over {patients:,} patients ({data_dir})")
    print(f"gunicorn -w {args.workers} --threads 4 -k gthread on 127.0.0.1:{port}; "
          "one keep-alive")  # fmt: skip
    print("connection, requests one after another; user with all facilities in scope")
    audited = _search_events() - audited_before
    print(f"searches audited (patient.search): {audited:,} of {sent:,} sent")
    print(f"({args.warmup} warm-up + {args.queries} measured per kind)")
    _common.print_table("GET /fhir/R4/Patient?... (gunicorn)", rows, TARGET_MS)
    if args.in_process:
        from django.test import Client

        client = Client(HTTP_AUTHORIZATION=auth, HTTP_HOST="127.0.0.1")
        inproc = run_kinds(kinds, args.warmup, lambda p: in_process(client, p))
        _common.print_table("Django stack in-process (django.test.Client)", inproc,
                            TARGET_MS)  # fmt: skip
    _common.footer()
    missed = [label for label, st, _ in rows if st.get("n") and st["p95"] > TARGET_MS]
    if missed:
        print(f"\np95 above {TARGET_MS:g} ms: {'; '.join(missed)}")
        return 0 if args.report_only else 1
    return 0


def run_kinds(kinds: list[Kind], warmup: int, send: Send) -> list[Row]:
    """Each kind's searches in turn; a row per kind and one for all of them."""
    rows: list[Row] = []
    all_wall: list[float] = []
    all_cpu: list[float] = []
    for kind in kinds:
        wall: list[float] = []
        cpu: list[float] = []
        missed = 0
        for n, (params, want) in enumerate(zip(kind.params, kind.expect, strict=True)):
            ms, cpu_ms, bundle = send(BASE + urlencode(params))
            if n < warmup:
                continue
            wall.append(ms)
            if cpu_ms is not None:
                cpu.append(cpu_ms)
            missed += int(not _holds(bundle, want))
        label = kind.label + (f" [{missed} not found]" if missed else "")
        rows.append((label, *_stats(wall, cpu)))
        all_wall += wall
        all_cpu += cpu
    rows.append(("all kinds", *_stats(all_wall, all_cpu)))
    return rows


def _holds(bundle: dict[str, Any], want: str | None) -> bool:
    """The expected patient is on the page (unless there are more pages)."""
    if want is None or any(x["relation"] == "next" for x in bundle["link"]):
        return True
    entries = bundle.get("entry", [])
    return any(e["resource"].get("id") == want for e in entries)


def _stats(
    wall: list[float], cpu: list[float]
) -> tuple[dict[str, float], dict[str, float] | None]:
    return _common.percentiles(wall), (_common.percentiles(cpu) if cpu else None)


def in_process(client: Any, path: str) -> tuple[float, float, Any]:
    c0, t0 = time.thread_time(), time.perf_counter()
    resp = client.get(path)
    ms, cpu = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
    if resp.status_code != 200:
        raise SystemExit(f"GET {path} answered {resp.status_code}: {resp.content!r}")
    return ms, cpu, resp.json()


def _search_events() -> int:
    from recordroom.audit.models import AuditEvent
    from recordroom.kernel import actions

    return AuditEvent.objects.filter(action=actions.PATIENT_SEARCH.name).count()


def build_kinds(rng: random.Random, n: int) -> list[Kind]:
    """Searches drawn from real rows: legal names with birth date and sex, MRNs."""
    from django.db import connection

    from recordroom.mpi.models import Patient

    if connection.vendor != "sqlite":
        raise SystemExit("the benchmark samples rows by SQLite rowid: SQLite only")
    pid = Patient._meta.pk.to_python  # SQLite returns hex text
    with connection.cursor() as cur:
        cur.execute("SELECT max(rowid) FROM mpi_patientname")
        sample = rng.sample(range(1, cur.fetchone()[0] + 1), 3 * n)
        cur.execute(
            "SELECT n.family, n.given, p.id, p.birth_date, p.sex "
            "FROM mpi_patientname n JOIN mpi_patient p ON p.id = n.patient_id "
            f"WHERE n.use = 'legal' AND n.rowid IN ({','.join(map(str, sample))})"
        )
        legal = [r for r in cur.fetchall() if r[1] and r[3]][:n]
        rng.shuffle(legal)
        cur.execute("SELECT max(rowid) FROM mpi_patientidentifier")
        sample = rng.sample(range(1, cur.fetchone()[0] + 1), 3 * n)
        cur.execute(
            "SELECT system, value, patient_id FROM mpi_patientidentifier "
            f"WHERE kind = 'MR' AND rowid IN ({','.join(map(str, sample))})"
        )
        mrns = cur.fetchall()[:n]
        rng.shuffle(mrns)
        cur.execute(
            "SELECT min(family) FROM mpi_patientname GROUP BY family_key "
            "ORDER BY count(*) DESC LIMIT 20"
        )
        common = [r[0] for r in cur.fetchall()]
    ids = [str(pid(r[2])) for r in legal]
    return [
        Kind(
            "family + given + birthdate",
            [{"family": f, "given": g, "birthdate": str(b)} for f, g, _, b, _ in legal],
            ids,
        ),
        Kind(
            "identifier system|MRN",
            [{"identifier": f"{s}|{v}"} for s, v, _ in mrns],
            [str(pid(p)) for _, _, p in mrns],
        ),
        Kind(
            "family alone, common surname, _count=20",
            [{"family": rng.choice(common), "_count": "20"} for _ in range(n)],
            [None] * n,
        ),
        Kind(
            "name prefix (3+ letters of a surname)",
            [{"name": f[: rng.randint(3, max(3, len(f)))]} for f, *_ in legal],
            ids,
        ),
        Kind(
            "birthdate + gender",
            [{"birthdate": str(b), "gender": s} for *_, b, s in legal],
            ids,
        ),
    ]


def explain(kinds: list[Kind], auth: str) -> None:
    """The SQL of one search of each kind, with EXPLAIN QUERY PLAN (in-process)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=auth, HTTP_HOST="127.0.0.1")
    for kind in kinds:
        path = BASE + urlencode(kind.params[0])
        with CaptureQueriesContext(connection) as ctx:
            in_process(client, path)
        print(f"\n== {kind.label}: {path}")
        with connection.cursor() as cur:
            for q in ctx.captured_queries:
                if not q["sql"].lstrip().upper().startswith("SELECT"):
                    continue
                print(f"  {float(q['time']) * 1000:7.2f} ms  {q['sql'][:600]}")
                cur.execute("EXPLAIN QUERY PLAN " + q["sql"])
                for row in cur.fetchall():
                    print("             ", row[-1])


if __name__ == "__main__":
    sys.exit(main())
