"""MPI linkage benchmark (issue 4): our engine and Splink 5 (DuckDB) side by side on
the demo generator's people with its ground truth.

    .venv/bin/pip install -e ".[bench]"     # Splink 5 (optional extra)
    .venv/bin/python bench/mpi/linkage.py --people 10000 --data-dir /tmp/rr-mpi-10k

Loads the population once per data dir (patients only: bench/mpi/_population.py),
then runs each engine in its own process (so each peak RSS is its own): our full
`mpi scan` (read the index, block, train, score, write the worklist) and Splink's
documented person-data set-up (train + predict). Prints pair precision, recall and
F1 at the threshold, wall time, peak memory, and one-record search latency.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
from _compare import best, our_scan, peak_mib, run_child, scores  # noqa: E402
from _population import load_population, relations, truth_pairs  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", type=int, default=10_000)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threshold", type=float, default=0.9)
    p.add_argument(
        "--searches", type=int, default=300, help="one-record searches (ours)"
    )
    p.add_argument("--splink-searches", type=int, default=20)
    p.add_argument("--skip-splink", action="store_true")
    p.add_argument(
        "--splink-variants", default="documented,extended",
        help="documented: Splink's person-data example (+ e-mail); extended: also "
        "exact SSN and phone; -selective: only the example's rules with the birth "
        "date (e.g. extended-selective)",
    )  # fmt: skip
    p.add_argument("--engine", help=argparse.SUPPRESS)
    return p.parse_args()


def ours(args: argparse.Namespace) -> dict[str, Any]:
    result = our_scan(min(args.threshold, 0.5), None)
    result["search_ms"] = _our_searches(args.searches, args.seed)
    return result


def _incoming(patient: Any) -> Any:
    """A registration carrying what the chart holds (the SSN decrypted, as a clerk
    would type it)."""
    from recordroom.mpi.models import PatientIdentifier
    from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, reveal_ssn

    idents = []
    for ident in PatientIdentifier.objects.filter(patient=patient).exclude(kind="MR"):
        value = reveal_ssn(ident) if ident.kind == "SS" else ident.value
        idents.append(IdentifierIn(kind=ident.kind, value=value, system=ident.system))
    return PatientIn(
        names=[NameIn(family=n.family, given=n.given, middle=n.middle, suffix=n.suffix,
                      use=n.use, period_end=n.period_end) for n in patient.names.all()],
        birth_date=patient.birth_date, sex=patient.sex, identifiers=idents,
        addresses=[{"line1": a.line1, "line2": a.line2, "postal_code": a.postal_code,
                    "period_end": a.period_end} for a in patient.addresses.all()],
        telecoms=[{"system": t.system, "value": t.value} for t in patient.telecoms.all()],
    )  # fmt: skip


def _our_searches(count: int, seed: int) -> list[float]:
    from recordroom.mpi.linkage.realtime import match_patient
    from recordroom.mpi.models import Patient

    ids = list(Patient.objects.values_list("pk", flat=True)[:200_000])
    sample = random.Random(seed).sample(ids, min(count, len(ids)))
    incoming = [_incoming(Patient.objects.get(pk=pk)) for pk in sample]
    match_patient(data=incoming[0])  # loads and caches the model
    out = []
    for data in incoming:
        started = time.perf_counter()
        match_patient(data=data)
        out.append((time.perf_counter() - started) * 1000)
    return out


def child(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir).resolve()
    _common.setup_django(data_dir, migrate=False)
    if args.engine == "ours":
        result = ours(args)
    else:
        import _splink

        variant = args.engine.split("-")
        result = _splink.run(data_dir / "splink-input.parquet", args.threshold,
                             args.splink_searches, "extended" in variant,
                             "selective" in variant)  # fmt: skip
        result["peak_mib"] = peak_mib()
    print("RESULT " + json.dumps(result))


def main() -> int:
    args = parse_args()
    if args.engine:
        child(args)
        return 0
    data_dir = Path(args.data_dir).resolve()
    _common.setup_django(data_dir)
    records, load_s, truth_file = load_population(args.people, args.seed, data_dir)
    truth = truth_pairs(truth_file)
    print(f"population: {args.people:,} people, {records:,} records, {len(truth):,} "
          f"duplicate pairs (loaded in {load_s:.0f} s; 0 = reused)")  # fmt: skip
    results = {"ours": run_child(__file__, "ours", sys.argv[1:])}
    if not args.skip_splink:
        parquet = data_dir / "splink-input.parquet"
        if not parquet.exists():
            import _splink

            _splink.flat_table(parquet)
        for variant in args.splink_variants.split(","):
            results[f"splink-{variant}"] = run_child(
                __file__, f"splink-{variant}", sys.argv[1:]
            )
    report(args, results, truth, relations(truth_file))
    _common.footer()
    return 0


def report(args: argparse.Namespace, results: dict[str, Any], truth: set[tuple[str, str]],
           relation: dict[str, str]) -> None:  # fmt: skip
    print(f"\npair precision / recall / F1 at probability >= {args.threshold}")
    print(f"  {'engine':<17} {'pairs':>8} {'precision':>10} {'recall':>8} {'F1':>8} "
          f"{'wall s':>8} {'peak MiB':>9} {'search p50':>11} {'p95 ms':>8}")  # fmt: skip
    for name, res in results.items():
        s = scores(res["pairs"], truth, args.threshold)
        top = best(res["pairs"], truth)
        st = _common.percentiles(res["search_ms"])
        print(f"  {name:<17} {s['pairs']:>8,} {s['precision']:>10.4f} {s['recall']:>8.4f} "
              f"{s['f1']:>8.4f} {res['total_s']:>8.1f} {res['peak_mib']:>9.0f} "
              f"{st.get('p50', 0):>11.1f} {st.get('p95', 0):>8.1f}")  # fmt: skip
        missed: dict[str, int] = {}
        found = {(a, b) for a, b, p in res["pairs"] if p >= args.threshold}
        for a, b in truth - found:
            kind = (
                relation.get(b, "?")
                if relation.get(a) == "original"
                else relation.get(a, "?")
            )
            missed[kind] = missed.get(kind, 0) + 1
        wrong: dict[str, int] = {}
        for a, b in found - truth:
            kind = "/".join(sorted((relation.get(a, "?"), relation.get(b, "?"))))
            wrong[kind] = wrong.get(kind, 0) + 1
        print(f"           missed: {missed or '-'}; false: {wrong or '-'}")
        print(f"           best F1 over thresholds: {top['f1']:.4f} at p >= {top['t']:.6g} "
              f"(precision {top['precision']:.4f}, recall {top['recall']:.4f})")  # fmt: skip
        for note in res.get("em_failed", []):
            print(f"           {note}")
    if "candidate_pairs" in results["ours"]:
        print(f"  ours compared {results['ours']['candidate_pairs']:,} candidate pairs; "
              f"search n={len(results['ours']['search_ms'])}, splink search "
              f"n={args.splink_searches}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
