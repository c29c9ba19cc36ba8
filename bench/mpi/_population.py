"""The demo generator's people as patient records only (no encounters or documents),
loaded through the demo's own row builders, with the demo's ground-truth CSV.

`recordroom demo --patients N --no-serve` loads the same patients (same seed, same
as-of date) plus their clinical history; for identity matching only the patients
matter, and this loads a million of them in minutes instead of hours. Resumable:
a data dir that already holds the population is reused.
"""

from __future__ import annotations

import csv
import multiprocessing
import time
from datetime import date
from pathlib import Path
from typing import Any

AS_OF = date(2026, 11, 1)
BATCH = 2_000


def _plan(args: tuple[int, int, int]) -> list[Any]:
    from recordroom.demo.people import plan_people

    seed, start, stop = args
    return plan_people(seed, start, stop, AS_OF)


def load_population(people: int, seed: int, data_dir: Path) -> tuple[int, float, Path]:
    """Load `people` synthetic people; returns (records, seconds, ground truth)."""
    from recordroom.demo.loader import DEMO_ACTOR, TRUTH_COLUMNS
    from recordroom.demo.rows import write_batch
    from recordroom.demo.setup import ensure_scenery
    from recordroom.mpi.models import Patient

    truth = data_dir / "demo" / "ground-truth.csv"
    existing = Patient.objects.count()
    if existing and truth.exists():
        return existing, 0.0, truth
    if existing:
        raise SystemExit(
            f"{data_dir} holds patients but no ground truth; use a new dir"
        )
    started = time.perf_counter()
    scenery = ensure_scenery()
    truth.parent.mkdir(parents=True, exist_ok=True)
    jobs = [(seed, s, min(s + BATCH, people)) for s in range(0, people, BATCH)]
    records = 0
    ctx = multiprocessing.get_context("fork")
    with truth.open("w", newline="") as fh, ctx.Pool(2) as pool:
        out = csv.writer(fh)
        out.writerow(TRUTH_COLUMNS)
        for n, plans in enumerate(pool.imap(_plan, jobs)):
            patients = write_batch(
                actor=DEMO_ACTOR, plans=plans, stored=[], scenery=scenery
            )
            for plan, patient in zip(plans, patients, strict=True):
                code = plan.primary_facility
                out.writerow(
                    (patient.pk, plan.person_id, plan.mrns[code], code, plan.relation)
                )
            records += len(plans)
            if n % 50 == 0:
                print(f"  loaded {min((n + 1) * BATCH, people):,} people "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    return records, time.perf_counter() - started, truth


def truth_pairs(truth: Path) -> set[tuple[str, str]]:
    """Pairs of patient ids that are one person (left < right)."""
    people: dict[str, list[str]] = {}
    with truth.open(newline="") as fh:
        for row in csv.DictReader(fh):
            people.setdefault(row["person_id"], []).append(row["patient_id"])
    out = set()
    for ids in people.values():
        ids.sort()
        out |= {(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]}
    return out


def relations(truth: Path) -> dict[str, str]:
    with truth.open(newline="") as fh:
        return {row["patient_id"]: row["relation"] for row in csv.DictReader(fh)}
