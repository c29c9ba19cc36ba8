"""A duplicate worklist of known shape for the worklist tests (service, API, CLI,
pages, browser): a finished scan whose pairs have known facilities, probabilities
and days on the worklist.

NORTH_PAIRS pairs of two NORTH records, SOUTH_PAIRS of two SOUTH records and
CROSS_PAIRS of one of each. Pair i of each group has probability 0.99 - 0.02 i and
came on the worklist i days ago (NORTH), 2 i days ago (SOUTH), 3 i (cross)."""

from __future__ import annotations

from datetime import date, timedelta

NORTH_PAIRS, SOUTH_PAIRS, CROSS_PAIRS = 30, 10, 5
SURNAMES = ("Abbott", "Baker", "Castro", "Dahl", "Ekwueme", "Fischer", "Gallo",
            "Horvat", "Ibsen", "Jovanovic", "Kowalski", "Larsen", "Moreau", "Novak",
            "Okoro", "Petit", "Quinn", "Rossi", "Santos", "Takahashi")  # fmt: skip


def _patient(facility, family, given, born, mrn):
    # imported here: `python -m tests.mpi.worklist_data` sets Django up first
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.services import (
        IdentifierIn,
        NameIn,
        PatientIn,
        register_patient,
    )

    feed = Actor(channel="test", name="worklist-data")
    return register_patient(actor=feed, data=PatientIn(
        names=[NameIn(family=family, given=given)], birth_date=born, sex="female",
        identifiers=[IdentifierIn(kind="MR", value=mrn, facility=facility)]))  # fmt: skip


def build_worklist(north, south, *, now=None):
    """Returns (run, {"north": [(a, b)...], "south": [...], "cross": [...]})."""
    from django.utils import timezone

    from recordroom.mpi.linkage.models import CandidatePair, LinkageRun, RunStatus

    now = now or timezone.now()
    run = LinkageRun.objects.create(fingerprint="worklist-data", status=RunStatus.FINISHED,
                                    finished_at=now, phase="done")  # fmt: skip
    groups = {"north": (NORTH_PAIRS, north, north, 1),
              "south": (SOUTH_PAIRS, south, south, 2),
              "cross": (CROSS_PAIRS, north, south, 3)}  # fmt: skip
    made: dict[str, list] = {}
    rows = []
    for name, (count, fa, fb, step) in groups.items():
        made[name] = []
        for i in range(count):
            family = f"{SURNAMES[i % len(SURNAMES)]}{'' if i < 20 else 'son'}"
            born = date(1950 + i, 1 + i % 12, 1 + i % 28)
            given = {"north": "Anna", "south": "Berit", "cross": "Chloe"}[name]
            a = _patient(fa, family, given, born, f"{name[0].upper()}A{i:04d}")
            b = _patient(fb, family, given, born, f"{name[0].upper()}B{i:04d}")
            left, right = sorted((a, b), key=lambda p: str(p.pk))
            made[name].append((left, right))
            rows.append(CandidatePair(
                run=run, left=left, right=right, probability=round(0.99 - 0.02 * i, 2),
                match_weight=10 - i, evidence=[], cluster=len(rows),
                on_worklist_since=now - timedelta(days=step * i, hours=1)))  # fmt: skip
    CandidatePair.objects.bulk_create(rows)
    run.stored_pairs = len(rows)
    run.save(update_fields=["stored_pairs"])
    return run, made


def main() -> None:
    """`python -m tests.mpi.worklist_data`: the worklist in the browser test's data
    folder (it prints the run's id)."""
    import json

    import django

    django.setup()
    from recordroom.mpi.models import Facility

    run, _ = build_worklist(Facility.objects.get(code="NORTH"),
                            Facility.objects.get(code="SOUTH"))  # fmt: skip
    print(json.dumps({"run": str(run.pk)}))


if __name__ == "__main__":
    main()
