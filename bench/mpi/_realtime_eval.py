"""Search before create on pseudopeople (issue 12: no wrong automatic link).

The records of one facility (the third, TAX, by default) are registered one by one
against an index of the other two: each goes through the registration's own
decision (`registration._candidates`, then `expected_outcome` and `auto_target`,
what `register` and the registration page call), with the incoming facility's own
records left out of the candidates, so the index is the other facilities'. Nothing
is written. Counted per registration whose person is in the index: linked to the
right person, linked to the WRONG person, sent to review, created although the
person existed (missed); and for those whose person is not: linked (wrong), review,
created. "probability only" is the decision by the automatic-link threshold alone
(before the conditions of mpi/linkage/autolink.py), on the same candidates.

    python bench/mpi/_realtime_eval.py --data-dir DIR --noise default --sample 2000

DIR is a data dir `bench/mpi/pseudopeople.py` loaded and scanned (the model is
the scan's, trained on all three facilities).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # run alone: the same path set-up as pseudopeople.py
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(HERE.parent))
    sys.path.append(str(HERE))


def patient_in(plan: Any, facility: Any) -> Any:
    from recordroom.mpi.models import IdentifierKind
    from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn

    ids = [IdentifierIn(kind=IdentifierKind.MRN, value=v, facility=facility)
           for v in plan.mrns.values()]  # fmt: skip
    if plan.ssn:
        ids.append(IdentifierIn(kind=IdentifierKind.SSN, value=plan.ssn))
    return PatientIn(
        names=[NameIn(family=n.family, given=n.given, middle=n.middle)
               for n in plan.names],
        birth_date=plan.birth_date, sex=plan.sex, identifiers=ids,
        addresses=list(plan.addresses),
    )  # fmt: skip


def evaluate(data_dir: Path, noise: str, seed: int, people: int | None,
             incoming: str = "TAX", sample: int = 2000) -> dict[str, Any]:  # fmt: skip
    """Counts of what search before create decides for `sample` records of
    `incoming` against the other facilities' records (Django set up on data_dir)."""
    import _pseudopeople_data

    from recordroom.mpi.linkage import registration as reg
    from recordroom.mpi.linkage.models import MatchOutcome
    from recordroom.records.models import Facility

    frames = _pseudopeople_data.generate(noise, seed)
    plans, _ = _pseudopeople_data.plans(frames, people)
    with (data_dir / "pseudopeople" / "ground-truth.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != len(plans):
        raise SystemExit(
            f"{data_dir}: {len(rows)} records loaded, {len(plans)} planned"
        )
    person = {r["patient_id"]: r["person_id"] for r in rows}
    own = {r["patient_id"] for r in rows if r["facility"] == incoming}
    indexed = {r["person_id"] for r in rows if r["facility"] != incoming}
    mine = [
        (p, r) for p, r in zip(plans, rows, strict=True) if r["facility"] == incoming
    ]
    random.Random(seed).shuffle(mine)
    facility = Facility.objects.get(code=incoming)
    limits = reg.thresholds_for(facility)
    keys = ("right", "wrong", "review", "missed", "new_wrong", "new_review", "new")
    counts = {
        "gated": dict.fromkeys(keys, 0),
        "probability only": dict.fromkeys(keys, 0),
    }
    started, cpu0 = time.perf_counter(), time.process_time()
    for plan, row in mine[:sample]:
        data = patient_in(plan, facility)
        found = [c for c in reg._candidates(data, 20) if c.patient_id not in own][:5]
        exists = row["person_id"] in indexed
        top = person.get(found[0].patient_id) if found else None
        gated = reg.expected_outcome(data, found, limits)
        plain = limits.band(found[0].probability) if found else MatchOutcome.CREATED
        chosen = reg.auto_target(data, found, limits)
        linked = {"gated": person.get(chosen.patient_id) if chosen else None,
                  "probability only": top}  # fmt: skip
        for name, outcome in (("gated", gated), ("probability only", plain)):
            c = counts[name]
            if outcome == MatchOutcome.LINKED:
                key = "right" if linked[name] == row["person_id"] else "wrong"
                c[key if exists else "new_wrong"] += 1
            elif outcome == MatchOutcome.REVIEW:
                c["review" if exists else "new_review"] += 1
            else:
                c["missed" if exists else "new"] += 1
    done = min(sample, len(mine))
    return {"facility": incoming, "registrations": done, "counts": counts,
            "thresholds": (limits.auto_link, limits.review),
            "ms_each": 1000 * (time.perf_counter() - started) / max(done, 1),
            "cpu_ms_each": 1000 * (time.process_time() - cpu0) / max(done, 1)}  # fmt: skip


def report(res: dict[str, Any]) -> int:
    """Print the counts; returns the number of wrong automatic links (gated)."""
    auto, review = res["thresholds"]
    print(f"\nsearch before create: {res['registrations']:,} {res['facility']} records "
          f"registered against the other facilities (auto-link >= {auto:g}, review "
          f">= {review:g}; {res['ms_each']:.0f} ms wall, {res['cpu_ms_each']:.0f} ms "
          "CPU each)")  # fmt: skip
    print(f"  {'decision':<17} {'person in the index:':>20} {'right':>6} {'WRONG':>6} "
          f"{'review':>7} {'missed':>7} | not in it: {'linked':>6} {'review':>7} "
          f"{'new':>6}")  # fmt: skip
    for name, c in res["counts"].items():
        print(f"  {name:<17} {'':>20} {c['right']:>6} {c['wrong']:>6} {c['review']:>7} "
              f"{c['missed']:>7} |            {c['new_wrong']:>6} {c['new_review']:>7} "
              f"{c['new']:>6}")  # fmt: skip
    wrong = res["counts"]["gated"]["wrong"] + res["counts"]["gated"]["new_wrong"]
    print(
        f"  target (issue 12) no wrong automatic link: {'ok' if not wrong else 'MISSED'}"
    )
    return wrong


def main() -> int:
    import _common

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--noise", choices=("default", "high"), default="default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--people", type=int, default=None)
    p.add_argument("--facility", default="TAX", help="the incoming facility's code")
    p.add_argument("--sample", type=int, default=2000)
    args = p.parse_args()
    data_dir = Path(args.data_dir).resolve()
    _common.setup_django(data_dir, migrate=False)
    res = evaluate(data_dir, args.noise, args.seed, args.people, args.facility,
                   args.sample)  # fmt: skip
    return 1 if report(res) else 0


if __name__ == "__main__":
    sys.exit(main())
