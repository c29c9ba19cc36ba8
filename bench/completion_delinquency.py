"""Delinquency reads and letters (issue 14, R-RC-7) over the chart-completion
benchmark's population: the rate, the monthly history, the breakdown per service,
aging, the suspension list (JSON, CSV, PDF) and one run of letters to providers.

    .venv/bin/python bench/completion_delinquency.py --data-dir /tmp/rr-bench-cmp
    RECORDROOM_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench_cmp \\
        .venv/bin/python bench/completion_delinquency.py --data-dir /tmp/rr-bench-cmp-pg

It loads the population as bench/completion.py does (--discharges visits at BENCH,
reused when present), analyses it once when nothing is analysed yet, dates each
deficiency's opening and assignment to the day after its discharge (so that the past
months hold delinquent records), then times each read --runs times and the letters
once (written, not sent). Target: each read p95 <= 1 s (a dashboard page draws all).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

import _common

TARGET_READ_MS = 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--discharges", type=int, default=10_000)
    parser.add_argument("--docs", type=int, default=10, help="documents per visit")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    _common.add_target_flag(parser)
    args = parser.parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir)
    import completion as population  # bench/completion.py

    encounters = population.load(args.discharges, args.docs, random.Random(args.seed))
    _prepare(encounters)
    ok = _measure(args.runs)
    _common.footer()
    if not ok and not args.report_only:
        raise SystemExit(1)


def _prepare(encounters: list) -> None:
    from django.conf import settings

    from recordroom.completion.engine import analyze_many
    from recordroom.completion.models import Deficiency
    from recordroom.kernel.actor import Actor
    from recordroom.records.models import Encounter

    settings.COMPLETION_SUSPENSION_GRACE_DAYS = 0
    qs = Deficiency.objects.filter(facility__code="BENCH")
    if not qs.exists():
        start = time.perf_counter()
        analyze_many(actor=Actor(channel="bench"), encounters=encounters)
        print(f"analysed {len(encounters)} charts in {time.perf_counter() - start:.1f} s")
    discharged = dict(Encounter.objects.filter(facility__code="BENCH")
                      .values_list("pk", "discharge_at"))  # fmt: skip
    rows = list(qs.only("pk", "encounter_id"))
    for d in rows:
        d.opened_at = d.assigned_at = discharged[d.encounter_id] + timedelta(days=1)
    Deficiency.objects.bulk_update(rows, ["opened_at", "assigned_at"], batch_size=2000)
    print(f"{len(rows)} deficiencies dated the day after their discharge")


def _measure(runs: int) -> bool:
    from recordroom.completion.delinquency import delinquency_rate
    from recordroom.completion.history import monthly_history, rate_breakdown
    from recordroom.completion.letters import run_letters
    from recordroom.completion.suspension import aging_buckets, suspension_list
    from recordroom.completion.suspension_export import export_suspension_list
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.models import Facility

    bench = Facility.objects.get(code="BENCH")
    actor = Actor(channel="bench")
    cases = {
        "delinquency_rate (tjc, 4 quarters)": lambda: delinquency_rate(facility=bench),
        "monthly_history (12 months)": lambda: monthly_history(facility=bench,
                                                               months=12),
        "rate_breakdown (facility + services)": lambda: rate_breakdown(
            facilities=[bench]),
        "aging_buckets": lambda: aging_buckets(facility=bench),
        "suspension_list": lambda: suspension_list(facility=bench),
        "suspension list as CSV": lambda: export_suspension_list(
            actor=actor, facility=bench, fmt="csv"),
        "suspension list as PDF": lambda: export_suspension_list(
            actor=actor, facility=bench, fmt="pdf"),
    }  # fmt: skip
    rows, ok = [], True
    for label, fn in cases.items():
        st = _common.percentiles([_common.timed(fn) for _ in range(runs)])
        ok &= st["p95"] <= TARGET_READ_MS
        rows.append((label, st, None))
    _common.print_table("delinquency reads at BENCH", rows, TARGET_READ_MS)
    print(f"suspension list: {len(suspension_list(facility=bench))} providers")
    start = time.perf_counter()
    run = run_letters(actor=actor, facility=bench, send=False)
    wall = time.perf_counter() - start
    items = sum(lt.deficiencies for lt in run.written)
    print(f"\nletters to providers: {len(run.written)} written ({items} items listed, "
          f"{run.skipped} already written today) in {wall:.1f} s"
          + (f", {wall / len(run.written) * 1000:.0f} ms a letter" if run.written
             else ""))  # fmt: skip
    return ok


if __name__ == "__main__":
    main()
