"""FHIR bundle import rate into SQLite (or PostgreSQL), Synthea mix.

    .venv/bin/python bench/fhir_import.py --data-dir /tmp/rr-bench-import --copies 25

Makes --copies copies of the 20 Synthea bundles in ../shared/testdata/synthea-r4
(every id and MRN rewritten per copy, so each copy is new people; deterministic),
then times `import_fhir` over them on a fresh database, as `recordroom import fhir`
runs it: the whole pipeline (read, parse, check, resolve, write, audit each row,
keep each file encrypted). Reports resources per second, counting the resources
Recordroom keeps (Patient, Encounter, Condition, Procedure, Practitioner,
Organization) and, separately, every resource read. Target: >= 2,000 kept/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import _common

TARGET = 2000


def make_copies(src: Path, out: Path, copies: int, bundles: int | None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(src.glob("*.json"))[:bundles]
    if not files:
        raise SystemExit(
            f"no Synthea bundles (*.json) in {src}: point --testdata (or "
            "RECORDROOM_CONFORMANCE_DATA) at the shared test data"
        )
    n = 0
    for c in range(copies):
        for f in files:
            text = f.read_text()
            ids: set[str] = set()
            for e in json.loads(text)["entry"]:
                res = e["resource"]
                if res["resourceType"] in ("Organization", "Practitioner"):
                    continue  # shared by every copy, as in a real feed
                ids.add(res["id"])
                if res["resourceType"] == "Patient":  # new MRNs: new people
                    ids |= {i["value"] for i in res.get("identifier", [])
                            if "SS" not in json.dumps(i.get("type", {}))}  # fmt: skip
            for old in ids:
                new = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{c}/{old}"))
                text = text.replace(old, new)
            (out / f"{c:04d}-{f.name}").write_text(text)
            n += 1
    return n


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--copies", type=int, default=25)
    p.add_argument(
        "--testdata",
        default=os.environ.get("RECORDROOM_CONFORMANCE_DATA")
        or str(_common.REPO.parent / "shared/testdata"),
        help="the folder holding synthea-r4/ (default: $RECORDROOM_CONFORMANCE_DATA)",
    )
    p.add_argument(
        "--bundles", type=int, default=None, help="only the first N bundles per copy"
    )
    _common.add_target_flag(p)
    args = p.parse_args()
    data = Path(args.data_dir)
    if data.exists():
        shutil.rmtree(data)
    bundles = data / "bundles"
    n = make_copies(
        Path(args.testdata) / "synthea-r4", bundles, args.copies, args.bundles
    )
    _common.ensure_database()
    _common.setup_django(data / "db")
    from recordroom.interop.bulk.importer import import_fhir
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.models import Facility

    facility = Facility.objects.create(code="BENCH", name="Bench General",
                                       mrn_system="urn:oid:2.16.840.1.113883.3.9999.7",
                                       timezone="America/Chicago")  # fmt: skip
    actor = Actor(user=None, channel="cli", name="bench")
    start, cpu = time.perf_counter(), time.process_time()
    _, summary = import_fhir(actor=actor, paths=[bundles], source="bench",
                             facility=facility)  # fmt: skip
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    totals = summary.totals()
    kept = totals["created"] + totals["updated"] + totals["unchanged"]
    read = kept + totals["skipped"] + totals["rejected"]
    from django.db import connection

    print(f"database: {connection.vendor}; {n} bundles, {read:,} resources read, "
          f"{kept:,} kept ({totals['created']:,} created), {totals['rejected']} refused")  # fmt: skip
    print(f"time: {seconds:.1f} s wall, {cpu:.1f} s CPU; {_common.machine()}")
    print(f"kept resources per second: {kept / seconds:,.0f} (target >= {TARGET:,})")
    print(f"all resources per second:  {read / seconds:,.0f}")
    print(
        f"kept per CPU second: {kept / cpu:,.0f} (the import is one thread; on an "
        "idle machine wall and CPU time agree)"
    )
    print("rerun: " + _common.rerun_command())
    if os.environ.get("RECORDROOM_DATABASE_URL"):
        print(
            "(PostgreSQL: RECORDROOM_DATABASE_URL="
            + os.environ["RECORDROOM_DATABASE_URL"]
            + ")"
        )
    return 0 if kept / seconds >= TARGET or args.report_only else 1


if __name__ == "__main__":
    sys.exit(main())
