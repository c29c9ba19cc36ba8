"""Patient search latency through the service layer (records.chart.find_patients).

    .venv/bin/python bench/search.py --data-dir /tmp/rr-bench-1m --queries 2000

Needs a population built by bench/patients_1m.py. Queries are drawn from real rows
(seeded): name + birth date (surname prefix of 3+ letters, given-name prefix, exact
date, typed "fam, giv" or "giv fam"), name alone (common and rare surnames), MRN and
account number; each for a user with every facility in scope and one scoped to one
facility. Prints p50/p95/p99 in ms against the target (p95 <= 20 ms on SQLite at 1M).
--explain prints the query plans of one query of each kind.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import _common

TARGET_MS = 20.0
TOLERANT = True  # --exact sets it False


@dataclass(frozen=True)
class Case:
    label: str
    kwargs: list[dict[str, Any]]  # find_patients(query=PatientQuery(**q), account=)
    expect: list[Any]  # a patient id each query must find (None: no check)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--queries", type=int, default=2000, help="per kind of query")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--warmup", type=int, default=200, help="unmeasured, per kind")
    p.add_argument("--explain", action="store_true", help="print query plans")
    p.add_argument(
        "--exact",
        action="store_true",
        help="exact matches only (default: tolerant, as the search page and the API)",
    )
    p.add_argument(
        "--only", default="", help="run only kinds whose label contains this"
    )
    return p.parse_args()


def main() -> int:
    args = parse_args()
    global TOLERANT
    TOLERANT = not args.exact
    _common.setup_django(args.data_dir)
    from recordroom.accounts.models import User

    total = _common.require_population(args.data_dir)
    rng = random.Random(args.seed)
    cases = build_cases(rng, args.queries + args.warmup)
    if args.only:
        cases = [c for c in cases if args.only in c.label]
    users = [
        ("all facilities", User.objects.get(username="bench-all")),
        ("one facility (NORTH)", User.objects.get(username="bench-north")),
    ]
    print(f"patient search over {total:,} patients ({args.data_dir})")
    if args.explain:
        explain(cases, users[0][1])
    for scope, user in users:
        rows = []
        for case in cases:
            wall, cpu, missed = run_case(
                case, user, args.warmup, check=scope.startswith("all")
            )
            label = case.label + (f" [{missed} not found]" if missed else "")
            rows.append((label, wall, cpu))
        _common.print_table(
            f"service layer, user with {scope} in scope", rows, TARGET_MS
        )
    _common.footer()
    return 0


def run_case(
    case: Case, user: Any, warmup: int, *, check: bool
) -> tuple[dict[str, float], dict[str, float], int]:
    """Run each query once; wall and CPU ms after the warm-up, and targets missed."""
    from recordroom.mpi.search import PatientQuery
    from recordroom.records.chart import find_patients

    wall: list[float] = []
    cpu: list[float] = []
    missed = 0
    for n, (kw, want) in enumerate(zip(case.kwargs, case.expect, strict=True)):
        kw = dict(kw)
        account = kw.pop("account", "")
        query = PatientQuery(**kw, tolerant=TOLERANT)
        c0, t0 = time.thread_time(), time.perf_counter()
        found = find_patients(user=user, query=query, account=account)
        t1, c1 = time.perf_counter(), time.thread_time()
        if n < warmup:
            continue
        wall.append((t1 - t0) * 1000)
        cpu.append((c1 - c0) * 1000)
        if check and want is not None and want not in {h.patient.pk for h in found}:
            missed += 1
    return _common.percentiles(wall), _common.percentiles(cpu), missed


def build_cases(rng: random.Random, n: int) -> list[Case]:
    """Queries drawn from real rows: legal names, birth dates, MRNs, accounts."""
    from django.db import connection

    from recordroom.mpi.models import Patient

    if connection.vendor != "sqlite":
        raise SystemExit(
            "the search benchmarks sample rows by SQLite rowid: SQLite only"
        )
    with connection.cursor() as cur:
        cur.execute("SELECT max(rowid) FROM mpi_patientname")
        max_name = cur.fetchone()[0]
        cur.execute("SELECT max(rowid) FROM records_encounter")
        max_enc = cur.fetchone()[0]
        if not (max_name and max_enc):
            raise SystemExit(
                "no patient names or encounters to draw queries from: "
                "build the index with bench/patients_1m.py first"
            )
        ids = rng.sample(range(1, max_name + 1), min(max_name, 3 * n))
        cur.execute(
            "SELECT n.family_key, n.given_key, n.patient_id, p.birth_date "
            "FROM mpi_patientname n JOIN mpi_patient p ON p.id = n.patient_id "
            f"WHERE n.use = 'legal' AND n.rowid IN ({','.join(map(str, ids))})"
        )
        legal = [r for r in cur.fetchall() if r[1] and r[3]][:n]
        cur.execute(
            "SELECT i.value, i.patient_id FROM mpi_patientidentifier i "
            "JOIN records_encounter e ON e.patient_id = i.patient_id "
            f"WHERE i.kind = 'MR' AND e.rowid IN ({_sample_ids(rng, max_enc, n)})"
        )
        mrns = cur.fetchall()
        cur.execute(
            "SELECT account_number, patient_id FROM records_encounter "
            f"WHERE rowid IN ({_sample_ids(rng, max_enc, n)})"
        )
        accounts = cur.fetchall()
        cur.execute(
            "SELECT family_key FROM mpi_patientname GROUP BY family_key "
            "ORDER BY count(*) DESC LIMIT 20"
        )
        common = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT family_key FROM mpi_patientname "
            f"WHERE rowid IN ({_sample_ids(rng, max_name, max(n, 5000))})"
        )
        rare_pool = sorted({r[0] for r in cur.fetchall()})
        cur.execute(
            "SELECT family_key FROM mpi_patientname WHERE family_key IN "
            f"({','.join('%s' for _ in rare_pool)}) "
            "GROUP BY family_key HAVING count(*) <= 3",
            rare_pool,
        )
        rare = [r[0] for r in cur.fetchall()]
    pid = Patient._meta.pk.to_python  # SQLite returns hex text

    def fam(f: str) -> str:
        return f[: rng.randint(3, max(3, len(f)))]

    def giv(g: str) -> str:
        return g[: rng.randint(1, min(4, len(g)))]

    comma = [{"name": f"{fam(f)}, {giv(g)}", "birth_date": b} for f, g, _, b in legal]
    spaced = [{"name": f"{giv(g)} {fam(f)}", "birth_date": b} for f, g, _, b in legal]
    legal_ids = [pid(r[2]) for r in legal]
    pick: Callable[[list[str]], str] = rng.choice
    return [
        Case("name + birth date ('smi, jo' + DOB)", comma, legal_ids),
        Case("name + birth date ('jo smi' + DOB)", spaced, legal_ids),
        Case(
            "name only, common surname ('smith')",
            [{"name": pick(common)} for _ in range(n)],
            [None] * n,
        ),
        Case(
            "name only, common surname + given ('smith, j')",
            [
                {"name": f"{pick(common)}, {rng.choice('abcdejklmrst')}"}
                for _ in range(n)
            ],
            [None] * n,
        ),
        Case(
            "name only, rare surname",
            [{"name": pick(rare)} for _ in range(n)],
            [None] * n,
        ),
        Case(
            "MRN",
            [{"identifier": v} for v, _ in mrns],
            [pid(p) for _, p in mrns],
        ),
        Case(
            "account number",
            [{"account": v} for v, _ in accounts],
            [pid(p) for _, p in accounts],
        ),
    ]


def _sample_ids(rng: random.Random, top: int, n: int) -> str:
    return ",".join(map(str, rng.sample(range(1, top + 1), min(top, n))))


def explain(cases: list[Case], user: Any) -> None:
    """EXPLAIN QUERY PLAN (SQLite) / EXPLAIN (PostgreSQL) of each case's first query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from recordroom.mpi.search import PatientQuery
    from recordroom.records.chart import find_patients

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    for case in cases:
        kw = dict(case.kwargs[0])
        account = kw.pop("account", "")
        with CaptureQueriesContext(connection) as ctx:
            find_patients(
                user=user, query=PatientQuery(**kw, tolerant=TOLERANT), account=account
            )
        print(f"\n== {case.label}: {kw or account}")
        with connection.cursor() as cur:
            for q in ctx.captured_queries:
                print(f"  SQL: {q['sql'][:400]}")
                cur.execute(prefix + q["sql"])
                for row in cur.fetchall():
                    print("    ", " | ".join(str(c) for c in row))


if __name__ == "__main__":
    sys.exit(main())
