"""Accounting of disclosures for a patient with 10,000 disclosures: the entries
(one query) and the whole produced letter (PDF, stored encrypted, audited).

    .venv/bin/python bench/roi_accounting.py --data-dir /tmp/rr-bench-aod
    RECORDROOM_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench_aod \\
        .venv/bin/python bench/roi_accounting.py --data-dir /tmp/rr-bench-aod-pg

The first run enters --disclosures accountable disclosures (164.512 public
health, oversight, court orders (two in five of them for Part 2 records),
subpoenas, law enforcement, workers' comp) spread over the six years before today, plus
--excluded ones the accounting leaves out (treatment, authorizations, to the
patient), through disclosures.record_disclosure; later runs reuse them. Then, for
--runs rounds, it times accounting() alone, the PDF alone, and
accounting_requests.produce_accounting() end to end (a fresh request each round):
wall clock and CPU time. Target: the produced accounting <= 1 s.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

import _common

TARGET_MS = 1000.0
AGENCIES = [
    (
        "Illinois Department of Public Health",
        "535 W Jefferson St, Springfield IL 62761",
        "public-health",
        "Mandatory report of a notifiable disease",
    ),
    (
        "Sangamon County Department of Public Health",
        "2833 S Grand Ave E, Springfield IL",
        "public-health",
        "Immunization registry report",
    ),
    (
        "Office of Inspector General, HHS",
        "330 Independence Ave SW, Washington DC 20201",
        "oversight",
        "Health oversight audit of claims",
    ),
    (
        "Cook County Circuit Court",
        "50 W Washington St, Chicago IL 60602",
        "court-order",
        "Order of the court in a civil matter",
    ),
    (
        "Kim & Lee LLP",
        "1 Court Sq, Chicago IL 60602",
        "subpoena",
        "Subpoena duces tecum with notice assurances",
    ),
    (
        "Springfield Police Department",
        "800 E Monroe St, Springfield IL 62701",
        "law-enforcement",
        "Court-ordered warrant",
    ),
    (
        "Illinois Workers' Compensation Commission",
        "69 W Washington St, Chicago IL",
        "workers-comp",
        "Workers' compensation claim",
    ),
    (
        "Sangamon County Coroner",
        "200 S 9th St, Springfield IL 62701",
        "coroner",
        "Death investigation",
    ),
]
WHAT = [
    "Emergency department record",
    "Discharge summary",
    "Laboratory results",
    "Radiology report",
    "Operative report",
    "Immunization record",
    "Progress notes",
    "Medication list",
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--disclosures", type=int, default=10_000)
    p.add_argument("--excluded", type=int, default=2_000)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--seed", type=int, default=5)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir)
    from django.db import connection

    print(f"accounting of disclosures on {connection.vendor} ({args.data_dir})")
    patient = fill(args.disclosures, args.excluded, args.seed)
    bench(patient, args.runs)
    _common.footer()
    return 0


def fill(accountable: int, excluded: int, seed: int):  # noqa: ANN201
    from django.db import transaction

    from recordroom.kernel.actor import Actor
    from recordroom.mpi.models import Facility, Patient
    from recordroom.mpi.services import (
        IdentifierIn,
        NameIn,
        PatientIn,
        register_patient,
    )
    from recordroom.release.disclosures import record_disclosure
    from recordroom.release.models import Disclosure

    actor = Actor(channel="cli", name="bench")
    patient = Patient.objects.filter(identifiers__value="AOD0000001").first()
    if patient is not None:
        have = Disclosure.objects.filter(patient=patient).count()
        print(f"reusing patient {patient.pk} with {have:,} disclosures")
        return patient
    facility, _ = Facility.objects.get_or_create(
        code="BENCH",
        defaults={
            "name": "Bench General Hospital",
            "mrn_system": "urn:recordroom:facility:bench:mrn",
        },
    )
    patient = register_patient(
        actor=actor,
        data=PatientIn(
            names=[NameIn(family="Núñez", given="José")],
            birth_date=datetime(1970, 3, 4).date(),
            sex="male",
            identifiers=[
                IdentifierIn(kind="MR", value="AOD0000001", facility=facility)
            ],
        ),
    )
    rng = random.Random(seed)
    now = datetime.now(UTC)
    span = 6 * 365 * 24 * 3600 - 3 * 24 * 3600
    t0 = time.perf_counter()
    with transaction.atomic():
        for i in range(accountable + excluded):
            name, address, basis, purpose = rng.choice(AGENCIES)
            part2 = basis == "court-order" and rng.random() < 0.4
            if i >= accountable:
                name, address, basis, purpose = rng.choice(
                    [
                        ("Dr. Ada Park", "", "treatment", "Follow-up care"),
                        ("Blue Shield of Illinois", "", "payment", "Claim review"),
                        ("José Núñez", "", "individual", "Patient's own copy"),
                    ]
                )
            when = now - timedelta(seconds=rng.randrange(span))
            record_disclosure(
                actor=actor,
                patient=patient,
                disclosed_at=when,
                recipient_name=name,
                recipient_address=address,
                legal_basis=basis,
                part2=part2,
                description=f"{rng.choice(WHAT)} of {when - timedelta(days=rng.randrange(90)):%Y-%m-%d}, "
                f"{rng.randrange(1, 40)} pages (reference {rng.randrange(10**6):06d})",
                purpose=purpose,
                pages=rng.randrange(1, 40),
            )
    print(
        f"entered {accountable + excluded:,} disclosures in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    return patient


def bench(patient, runs: int) -> None:  # noqa: ANN001
    from recordroom.kernel import clock
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.zones import patient_facility
    from recordroom.release import accounting_pdf
    from recordroom.release.accounting import accounting
    from recordroom.release.accounting_requests import (
        agree_fee,
        log_accounting_request,
        produce_accounting,
    )

    actor = Actor(channel="cli", name="bench")
    # the facility's calendar, as the service checks dates (UTC's date runs a day
    # ahead of an American facility's every evening)
    today = clock.today(patient_facility(patient, None))
    head = accounting_pdf.AccountingLetter(
        "José Núñez",
        patient.birth_date,
        today,
        today,
        today,
        "Bench General Hospital",
        False,
        True,
    )
    cases: dict[str, tuple[list[float], list[float]]] = {}

    def timed(label: str, fn):  # noqa: ANN001, ANN202
        c0, t0 = time.thread_time(), time.perf_counter()
        out = fn()
        wall, cpu = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
        cases.setdefault(label, ([], []))
        cases[label][0].append(wall)
        cases[label][1].append(cpu)
        return out

    n = pages = 0
    for _ in range(runs):
        entries = timed(
            "accounting() entries", lambda: accounting(patient=patient, as_of=today)
        )
        n = len(entries)
        timed(
            "summarised entries (R-AOD-4 (b)(3))",
            lambda: accounting(patient=patient, as_of=today, summarise=True),
        )
        timed("PDF of the entries", lambda e=entries: accounting_pdf.render(head, e))
        req = log_accounting_request(
            actor=actor, patient=patient, received_on=today, requested_by="José Núñez"
        )
        if req.fee_cents:
            agree_fee(actor=actor, accounting_request=req)
        letter = timed(
            "produce_accounting (entries, PDF, store, audit)",
            lambda r=req: produce_accounting(actor=actor, accounting_request=r),
        )
        pages = letter.size
    print(f"\n{n:,} entries listed; produced letter {pages / 1e6:.2f} MB")
    rows = [
        (label, _common.percentiles(w), _common.percentiles(c))
        for label, (w, c) in cases.items()
    ]
    _common.print_table(f"accounting of disclosures ({runs} runs)", rows, TARGET_MS)


if __name__ == "__main__":
    raise SystemExit(main())
