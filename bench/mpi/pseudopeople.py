"""MPI linkage on data nobody on the project wrote (issue 12): pseudopeople's sample
population registered at three facilities, our `mpi scan` and Splink 5 (DuckDB) on
the same records in the same run, scored against pseudopeople's simulant_id.

    pip install -e ".[bench]"     # Splink 5 and pseudopeople (optional extra)
    .venv/bin/python bench/mpi/pseudopeople.py --noise default --data-dir /tmp/rr-pp-default
    .venv/bin/python bench/mpi/pseudopeople.py --noise high --data-dir /tmp/rr-pp-high

The records (bench/mpi/_pseudopeople_data.py: census, Social Security and W-2/1099
of the same simulants, about 33,700 records) are loaded once per data dir through
the demo's bulk path; each engine then runs in its own process: our whole scan
(read the index, block, train, score, write the worklist, cluster) and Splink's
documented person-data set-up (bench/mpi/_splink.py, train + predict). Prints pair
precision, recall and F1 at the worklist's review threshold and at probability
0.5, the best F1 over thresholds, blocking recall, wall and CPU time, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# This file's name is the package's: its folder goes last on the path, so that
# `import pseudopeople` finds the package and `import _compare` still finds ours.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))

import _common  # noqa: E402
from _compare import best, our_scan, peak_mib, run_child, scores  # noqa: E402
from _population import relations, truth_pairs  # noqa: E402
from _pseudopeople_data import NOISE_HELP  # noqa: E402

KEEP = 0.05  # pairs kept from both engines: the scan's own floor for the worklist


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--noise", choices=("default", "high"), default="default",
                   help=NOISE_HELP)  # fmt: skip
    p.add_argument("--data-dir", required=True)
    p.add_argument("--people", type=int, default=None,
                   help="only the first N simulants (sorted ids); all by default")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="pseudopeople's noise seed")
    p.add_argument("--skip-splink", action="store_true")
    p.add_argument(
        "--splink-variants", default="documented,extended",
        help="documented: Splink's person-data example (bench/mpi/_splink.py); "
        "extended: also exact SSN (and phone, which this data lacks); -selective: "
        "only the example's rules with the birth date",
    )  # fmt: skip
    p.add_argument("--search-before-create", type=int, default=0, metavar="N",
                   help="also register N records of the third facility against the "
                   "other two (bench/mpi/_realtime_eval.py); 0: not")  # fmt: skip
    _common.add_target_flag(p)
    p.add_argument("--engine", help=argparse.SUPPRESS)
    return p.parse_args()


def child(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir).resolve()
    _common.setup_django(data_dir, migrate=False)
    truth = truth_pairs(data_dir / "pseudopeople" / "ground-truth.csv")
    if args.engine == "ours":
        result = our_scan(KEEP, truth)
    else:
        import _splink

        variant = args.engine.split("-")
        path = data_dir / "splink-input.parquet"
        result = _splink.run(path, KEEP, 0, "extended" in variant,
                             "selective" in variant)  # fmt: skip
        result["peak_mib"] = peak_mib()
        result["blocking_recall"] = _splink.blocking_recall(
            path, truth, "selective" in variant
        )
    print("RESULT " + json.dumps(result))


def main() -> int:
    args = parse_args()
    if args.engine:
        child(args)
        return 0
    if not _have("pseudopeople"):
        raise SystemExit(
            'pseudopeople is not installed: pip install -e ".[bench]" (it brings '
            "pseudopeople and Splink)"
        )
    data_dir = Path(args.data_dir).resolve()
    _common.setup_django(data_dir)
    import _pseudopeople_data

    from recordroom.mpi.linkage.registration import thresholds_for

    loaded = _pseudopeople_data.load(args.noise, args.seed, args.people, data_dir)
    truth_file = Path(loaded["truth"])
    truth = truth_pairs(truth_file)
    print(f"pseudopeople sample, {args.noise} noise: {loaded['people']:,} simulants, "
          f"{loaded['records']:,} records {loaded['per_facility']}, {len(truth):,} "
          f"true pairs (loaded in {loaded['load_s']:.0f} s; 0 = reused)")  # fmt: skip
    print(f"  values a clerk could not enter, left out: {loaded['left_out']}")
    results = {"ours": run_child(__file__, "ours", sys.argv[1:])}
    if not args.skip_splink:
        if not _have("splink"):
            raise SystemExit('Splink is not installed: pip install -e ".[bench]"')
        parquet = data_dir / "splink-input.parquet"
        if not parquet.exists():
            import _splink

            _splink.flat_table(parquet)
        for variant in args.splink_variants.split(","):
            results[f"splink-{variant}"] = run_child(
                __file__, f"splink-{variant}", sys.argv[1:]
            )
    review = thresholds_for(None).review
    report(results, truth, relations(truth_file), sorted({review, 0.5}), review)
    missed = targets(args.noise, results, truth)
    if args.search_before_create:
        import _realtime_eval

        missed += _realtime_eval.report(_realtime_eval.evaluate(
            data_dir, args.noise, args.seed, args.people,
            sample=args.search_before_create))  # fmt: skip
    _common.footer()
    return 1 if missed and not args.report_only else 0


def targets(noise: str, results: dict[str, Any], truth: set[tuple[str, str]]) -> int:
    """Issue 12's targets: F1 at p >= 0.5 above Splink's best F1 (by 0.03 at high
    noise) and at least 0.98 at default noise; the scan faster than Splink."""
    ours = scores(results["ours"]["pairs"], truth, 0.5)["f1"]
    checks = [(f"F1 {ours:.4f} >= 0.98", ours >= 0.98)] if noise == "default" else []
    margin = 0.03 if noise == "high" else 0.0
    for name, res in results.items():
        if name == "ours":
            continue
        theirs = best(res["pairs"], truth)["f1"]
        checks.append((f"F1 {ours:.4f} > {name}'s best {theirs:.4f} + {margin:g}",
                       ours > theirs + margin))  # fmt: skip
        for what in ("total_s", "cpu_s"):
            mine, other = results["ours"][what], res[what]
            checks.append((f"{what[:-2]} {mine:.1f} s < {name}'s {other:.1f} s",
                           mine < other))  # fmt: skip
    print("\ntargets (issue 12)")
    for text, ok in checks:
        print(f"  {text}: {'ok' if ok else 'MISSED'}")
    return sum(not ok for _, ok in checks)


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def report(results: dict[str, Any], truth: set[tuple[str, str]],
           relation: dict[str, str], thresholds: list[float], review: float) -> None:  # fmt: skip
    print(f"\npair precision / recall / F1 (worklist review threshold {review:g})")
    print(f"  {'engine':<20} {'p >=':>5} {'pairs':>7} {'precision':>10} {'recall':>8} "
          f"{'F1':>7} {'blocking':>9} {'wall s':>7} {'cpu s':>7} {'peak MiB':>9}")  # fmt: skip
    for name, res in results.items():
        for t in thresholds:
            s = scores(res["pairs"], truth, t)
            print(f"  {name:<20} {t:>5g} {s['pairs']:>7,} {s['precision']:>10.4f} "
                  f"{s['recall']:>8.4f} {s['f1']:>7.4f} "
                  f"{res['blocking_recall']:>9.4f} {res['total_s']:>7.1f} "
                  f"{res['cpu_s']:>7.1f} {res['peak_mib']:>9.0f}")  # fmt: skip
        top = best(res["pairs"], truth)
        print(f"  {'':<20} best F1 {top['f1']:.4f} at p >= {top['t']:.6g} "
              f"(precision {top['precision']:.4f}, recall {top['recall']:.4f})")  # fmt: skip
        found = {(a, b) for a, b, p in res["pairs"] if p >= thresholds[0]}
        missed: dict[str, int] = {}
        for a, b in truth - found:
            kind = "/".join(sorted((relation.get(a, "?"), relation.get(b, "?"))))
            missed[kind] = missed.get(kind, 0) + 1
        print(f"  {'':<20} missed by facility pair: {dict(sorted(missed.items()))}")
        for note in res.get("em_failed", []):
            print(f"  {'':<20} {note}")
    if "candidate_pairs" in results["ours"]:
        print(f"  ours compared {results['ours']['candidate_pairs']:,} candidate pairs")
    print("  (blocking: share of true pairs compared at all; wall and CPU: train and "
          "link, ours including reading the index and writing the worklist)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
