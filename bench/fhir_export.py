"""Bulk `$export` of 100,000 patients with their encounters and documents: peak memory.

    .venv/bin/python bench/fhir_export.py --data-dir /tmp/rr-bench-export --patients 100000

Builds the population once (reused on the next run with the same --patients): each
patient with a name, an MRN, an address and a phone, two encounters and two
documents (every document version points at one shared PDF blob: content-addressed
storage keeps it once). Then runs the system-level export (all seven types) in a
child process, as the task worker does (`run_export`), and reports that process's
peak RSS, the time, and the NDJSON written. Target: peak memory <= 500 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time

import _common

TARGET_MB = 500
BATCH = 5000


def build(n: int) -> None:
    from recordroom.kernel.blobs import default_store
    from recordroom.mpi.models import (
        Facility,
        Patient,
        PatientAddress,
        PatientIdentifier,
        PatientName,
        PatientTelecom,
    )
    from recordroom.records.models import (
        Document,
        DocumentType,
        DocumentVersion,
        Encounter,  # fmt: skip
    )

    if Patient.objects.count() >= n:
        return
    facility, _ = Facility.objects.get_or_create(
        code="BIG", defaults={"name": "Big General", "timezone": "America/Chicago",
                              "mrn_system": "urn:oid:2.16.840.1.113883.3.9999.42"})  # fmt: skip
    pdf = b"%PDF-1.4\n% synthetic bench document\n%%EOF\n"
    sha = default_store().put(pdf).sha256
    dtype = DocumentType.objects.get(code="18842-5")
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    start = Patient.objects.count()
    for lo in range(start, n, BATCH):
        rows: dict[type, list] = {m: [] for m in (Patient, PatientName, PatientIdentifier,
                                                  PatientAddress, PatientTelecom,
                                                  Encounter, Document, DocumentVersion)}  # fmt: skip
        for i in range(lo, min(n, lo + BATCH)):
            p = Patient(birth_date=dt.date(1940 + i % 70, 1 + i % 12, 1 + i % 28),
                        sex=("female", "male")[i % 2])  # fmt: skip
            rows[Patient].append(p)
            rows[PatientName].append(PatientName(patient=p, use="legal",
                family=f"Family{i % 5000}", given=f"Given{i % 700}",
                family_key=f"family{i % 5000}", given_key=f"given{i % 700}"))  # fmt: skip
            rows[PatientIdentifier].append(PatientIdentifier(patient=p, kind="MR",
                system=facility.mrn_system, facility=facility, value=f"B{i:07d}",
                lookup=f"B{i:07d}"))  # fmt: skip
            rows[PatientAddress].append(PatientAddress(patient=p, line1=f"{i} Main St",
                city="Springfield", state="IL", postal_code=f"{62700 + i % 99}"))  # fmt: skip
            rows[PatientTelecom].append(
                PatientTelecom(patient=p, value=f"217-555-{i % 10000:04d}")
            )
            for k in range(2):
                at = base + dt.timedelta(days=i % 600 + k * 30)
                e = Encounter(patient=p, facility=facility, account_number=f"A{i:07d}{k}",
                              encounter_class="AMB", admit_at=at,
                              discharge_at=at + dt.timedelta(hours=2))  # fmt: skip
                rows[Encounter].append(e)
                d = Document(patient=p, encounter=e, facility=facility, doc_type=dtype,
                             service_start=at, source="interface", title="Visit note")  # fmt: skip
                rows[Document].append(d)
                rows[DocumentVersion].append(DocumentVersion(document=d, number=1,
                    kind="original", sha256=sha, size=len(pdf), media_type="application/pdf",
                    filename="note.pdf", created_at=at, created_by="bench"))  # fmt: skip
        for model, objs in rows.items():
            model.objects.bulk_create(objs, batch_size=1000)
        print(f"  built {min(n, lo + BATCH):,} patients", flush=True)


def export_child() -> None:
    from recordroom.accounts.models import User
    from recordroom.accounts.services import create_user
    from recordroom.interop.bulk import export
    from recordroom.kernel.actor import Actor

    user = User.objects.filter(username="exporter").first() or create_user(
        actor=Actor(channel="cli", name="bench"), username="exporter",
        role="him_specialist", password="correct horse battery 9", all_facilities=True)  # fmt: skip
    actor = Actor(user=user, channel="fhir")
    job = export.kick_off(actor=actor, level="system", request_url="bench://$export")
    start = time.perf_counter()
    status = export.run_export(job)
    seconds = time.perf_counter() - start
    job.refresh_from_db()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = sum(f["size"] for f in job.files)
    print(f"status {status} in {seconds:.0f} s; files: " + ", ".join(
        f"{f['type']} {f['count']:,}" for f in job.files))  # fmt: skip
    print(f"NDJSON written: {total / 1e6:,.0f} MB ({total / 1e6 / seconds:,.1f} MB/s)")
    print(f"peak RSS of the export process: {peak:,.0f} MB (target <= {TARGET_MB})")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--patients", type=int, default=100_000)
    p.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir, migrate=not args.export_only)
    if args.export_only:
        export_child()
        return 0
    print(_common.machine())
    start = time.perf_counter()
    build(args.patients)
    print(f"population ready in {time.perf_counter() - start:.0f} s")
    child = subprocess.run([sys.executable, __file__, "--data-dir", args.data_dir,
                            "--patients", str(args.patients), "--export-only"],
                           env=os.environ.copy(), capture_output=True, text=True)  # fmt: skip
    print(child.stdout + child.stderr)
    print("rerun: " + _common.rerun_command())
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
