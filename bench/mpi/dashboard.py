"""MPI dashboard benchmark (issue 4): `mpi.dashboard.measures` on a synthetic index
of N patients with the worklist's history, for the whole index and for a user of
one facility of three.

    .venv/bin/python bench/mpi/dashboard.py --patients 1000000 --data-dir /tmp/rr-dash-1m

Builds once per data dir (or database): patients registered by six creators, an MRN
at one of three facilities (a fifth also at a second), 2% merged into the next
record, three finished scans 20 days apart with 62,500 pairs each (the latest 3,125
more), 2,000 pairs decided "not a duplicate", 50,000 registrations sent to review and
100,000 automatic links (half reviewed). Then ANALYZEs (the statistics autovacuum
keeps on PostgreSQL) and times the dashboard, and the duplicate worklist's page
(count and one page, two filter sets); prints p50/p95.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # noqa: E402

CREATORS = (("ADT interface", "hl7"), ("ed-registration", "ui"),
            ("clinic-frontdesk", "ui"), ("partner FHIR feed", "fhir"),
            ("reg1", "api"), ("reg2", "api"))  # fmt: skip
BATCH = 20_000


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--patients", type=int, default=1_000_000)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--repeat", type=int, default=5)
    return p.parse_args()


def build(n: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from recordroom.mpi.linkage.models import (
        CandidatePair,
        LinkageRun,
        MatchDecision,
        RunStatus,
    )
    from recordroom.mpi.linkage.services import _stamp_since
    from recordroom.mpi.models import (
        Facility,
        PairDecision,
        Patient,
        PatientIdentifier,
        PatientMerge,
    )

    now = timezone.now()
    facilities = [Facility.objects.create(code=c, name=c.title(), mrn_system=f"urn:{c}")
                  for c in ("NORTH", "SOUTH", "EAST")]  # fmt: skip
    ids = []
    for start in range(0, n, BATCH):
        with transaction.atomic():
            rows = [Patient(created_by=CREATORS[k % 6][0], created_via=CREATORS[k % 6][1])
                    for k in range(start, min(n, start + BATCH))]  # fmt: skip
            Patient.objects.bulk_create(rows)
            ids += [p.pk for p in rows]
            idents = []
            for k, p in enumerate(rows, start):
                for j, prefix in ((k % 3, "M"), ((k + 1) % 3, "X"))[
                    : 2 if k % 5 == 0 else 1
                ]:
                    f = facilities[j]
                    idents.append(PatientIdentifier(patient=p, kind="MR", facility=f,
                                                    system=f.mrn_system,
                                                    value=f"{prefix}{k}", lookup=f"{prefix}{k}"))  # fmt: skip
            PatientIdentifier.objects.bulk_create(idents)
        print(f"  {start + len(rows):,} patients", end="\r", flush=True)
    print()
    with transaction.atomic():  # 2% merged into the next record
        retired = list(range(0, n - 1, 50))
        merges, moved = [], []
        held = {}
        for pid, iid in PatientIdentifier.objects.filter(
            patient_id__in=[ids[k] for k in retired]
        ).values_list("patient_id", "pk"):
            held.setdefault(pid, []).append(iid)
        for k in retired:
            r, s = ids[k], ids[k + 1]
            merges.append(PatientMerge(survivor_id=s, retired_id=r, merged_at=now,
                                       merged_by="bench", source="ui", reason="bench",
                                       restore={"identifiers": [{"id": i, "period_end": None}
                                                                for i in held[r]]}))  # fmt: skip
            moved += [(i, s) for i in held[r]]
        PatientMerge.objects.bulk_create(merges, batch_size=5000)
        Patient.objects.bulk_update(
            [Patient(pk=ids[k], merged_into_id=ids[k + 1]) for k in retired],
            ["merged_into"], batch_size=5000)  # fmt: skip
        PatientIdentifier.objects.bulk_update(
            [PatientIdentifier(pk=i, patient_id=s, period_end=now.date()) for i, s in moved],
            ["patient", "period_end"], batch_size=5000)  # fmt: skip
    paired = [k for k in range(n // 10, n - 2, 16)][:62_500]
    for age, extra in ((40, 0), (20, 0), (0, 3_125)):
        run = LinkageRun.objects.create(status=RunStatus.FINISHED, fingerprint="bench",
                                        finished_at=now - timedelta(days=age))  # fmt: skip
        pairs = [(ids[k], ids[k + 1]) for k in paired]
        pairs += [(ids[k], ids[k + 2]) for k in range(n // 2, n - 2, 16)][:extra]
        CandidatePair.objects.bulk_create(
            [CandidatePair(run=run, left_id=a, right_id=b, probability=0.5 + (k % 50) / 100,
                           match_weight=3, cluster=k) for k, (a, b) in enumerate(pairs)],
            batch_size=5000)  # fmt: skip
        _stamp_since(run)
    PairDecision.objects.bulk_create(
        [PairDecision(left_id=ids[k], right_id=ids[k + 1], decision="not-duplicate",
                      note="bench", fingerprint="-", decided_at=now, decided_by="bench")
         for k in paired[:2_000]], batch_size=5000)  # fmt: skip
    review = range(n * 8 // 10, n - 3, 2)
    MatchDecision.objects.bulk_create(
        [MatchDecision(decided_at=now - timedelta(days=k % 60), decided_by="bench",
                       source="api", facility=facilities[0], outcome="review",
                       patient_id=ids[k], candidate_id=ids[k + 3], probability=0.7)
         for k in list(review)[:50_000]], batch_size=5000)  # fmt: skip
    MatchDecision.objects.bulk_create(
        [MatchDecision(decided_at=now - timedelta(days=k % 60), decided_by="bench",
                       source="api", facility=facilities[1], outcome="linked",
                       patient_id=ids[k], candidate_id=ids[k], probability=0.99,
                       review=("", "", "correct", "wrong")[k % 4])
         for k in range(max(0, n - 100_000), n)], batch_size=5000)  # fmt: skip


def _worklist_rows(repeat: int, north: object) -> list[tuple[str, dict, None]]:
    """The duplicate worklist's page (mpi.pair_worklist.list_pairs: the count and
    one page of 50) on the latest scan: default filters, and a facility's pairs
    at least 10 days on the worklist, oldest first, on their last page."""
    from recordroom.mpi.pair_worklist import PairFilter, list_pairs

    cases = (("worklist, page 1", {}, 1),
             ("worklist NORTH 10+ d, age, last pg",
              {"facility": "NORTH", "min_age": "10", "sort": "age"}, 10_000))  # fmt: skip
    rows = []
    for label, params, page in cases:
        for who, whose in ((None, "whole index"), (north, "one facility")):
            f = PairFilter.parse(params)
            list_pairs(user=who, filters=f, page=page)  # warm

            def call(w: object = who, f: PairFilter = f, p: int = page) -> None:
                list_pairs(user=w, filters=f, page=p)

            took = [_common.timed(call) for _ in range(repeat)]
            rows.append((f"{label}: {whose}", _common.percentiles(took), None))
    return rows


def main() -> None:
    args = parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir)
    from recordroom.accounts.models import User
    from recordroom.mpi.dashboard import measures
    from recordroom.mpi.models import Facility, Patient

    if Patient.objects.count() < args.patients:
        print(f"building {args.patients:,} patients ...")
        started = time.perf_counter()
        build(args.patients)
        print(f"built in {time.perf_counter() - started:.0f} s")
    from django.db import connection

    with connection.cursor() as cursor:  # the statistics autovacuum would keep
        cursor.execute("ANALYZE")
    north, _ = User.objects.get_or_create(username="bench-north")
    north.facilities.add(Facility.objects.get(code="NORTH"))
    rows = []
    for label, who in (("whole index", None), ("a user of one facility", north)):
        measures(who)  # warm
        took = [_common.timed(lambda w=who: measures(w)) for _ in range(args.repeat)]
        rows.append((f"measures(): {label}", _common.percentiles(took), None))
    rows += _worklist_rows(args.repeat, north)
    board = measures(None)
    print(f"\n{board.total}\n{board.worklist}")
    _common.print_table(
        f"MPI dashboard, {Patient.objects.count():,} records", rows, None
    )
    _common.footer()


if __name__ == "__main__":
    main()
