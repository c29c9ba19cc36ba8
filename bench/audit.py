"""Audit trail costs: `audit verify` throughput, and what an audit event adds to a read.

    .venv/bin/python bench/audit.py --data-dir /tmp/rr-bench-audit --events 1000000
    RECORDROOM_DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench_audit \\
        .venv/bin/python bench/audit.py --data-dir /tmp/rr-bench-audit-pg

(a) Writes --events events once (record_many, in batches; reused on the next run),
then times audit.chain.verify() (the code behind `recordroom audit verify`):
events per second, target >= 200,000/s.
(b) Opens one chart (records.chart.get_chart: 6 encounters, 12 documents) --iterations
times, alternating a plain open with an open followed by the audit.services.record()
call the web adapter makes (chart.open, actor built from the request's user); the
user is re-read each time as the auth middleware would. Target: <= 1 ms more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import _common

VERIFY_TARGET = 200_000  # events per second
OVERHEAD_TARGET_MS = 1.0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=20_000, help="events per record_many")
    p.add_argument("--verify-runs", type=int, default=3)
    p.add_argument("--iterations", type=int, default=2000, help="chart opens per arm")
    p.add_argument("--skip-verify", action="store_true")
    p.add_argument("--skip-overhead", action="store_true")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir)
    from django.db import connection

    print(f"audit benchmarks on {connection.vendor} ({args.data_dir})")
    if not args.skip_verify:
        fill_events(args.events, args.batch)
        bench_verify(args.verify_runs)
    if not args.skip_overhead:
        bench_overhead(args.iterations)
    _common.footer()
    return 0


# --- (a) verify ------------------------------------------------------------------


def fill_events(target: int, batch: int) -> None:
    """Top the chain up to `target` events with record_many (realistic reads)."""
    from recordroom.audit.models import AuditEvent
    from recordroom.audit.services import EventSpec, record_many
    from recordroom.kernel import actions
    from recordroom.kernel.actor import Actor

    have = AuditEvent.objects.count()
    if have >= target:
        print(f"\n{have:,} events already in the chain; reusing them")
        return
    users = [
        Actor(
            user=None,
            name=f"user{u:03d}",
            channel="web",
            client_address=f"10.0.{u // 250}.{u % 250}",
            purpose="TREAT",
        )
        for u in range(200)
    ]
    kinds = (actions.CHART_OPEN.name, actions.PATIENT_SEARCH.name)
    kinds += (actions.DOCUMENT_VIEW.name,)
    todo = target - have
    t0 = time.perf_counter()
    written = 0
    while written < todo:
        n = min(batch, todo - written)
        specs = []
        for i in range(written, written + n):
            actor = users[i % len(users)]
            patient = uuid.UUID(int=(i * 2_654_435_761) % 2**122)
            action = kinds[i % len(kinds)]
            detail = (
                {"query": {"name": "smi, jo", "birth_date": "1970-03-04"}}
                if action == actions.PATIENT_SEARCH.name
                else {}
            )
            specs.append(
                EventSpec(
                    actor=Actor(
                        name=actor.name,
                        channel=actor.channel,
                        client_address=actor.client_address,
                        request_id=uuid.UUID(int=i).hex,
                        purpose=actor.purpose,
                    ),
                    action=action,
                    patient=patient,
                    obj=("mpi.patient", patient),
                    detail=detail,
                )
            )
        record_many(specs)
        written += n
    seconds = time.perf_counter() - t0
    print(
        f"\nwrote {todo:,} events with record_many in {seconds:.1f} s "
        f"({todo / seconds:,.0f} events/s, batches of {batch:,})"
    )


def bench_verify(runs: int) -> None:
    """Time verify(); wall clock is the figure, CPU time shows what waiting cost."""
    from recordroom.audit.chain import verify

    rates, cpu_rates = [], []
    for run in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        result = verify()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        if not result.intact:
            raise SystemExit(f"chain broken at {result.broken_id}: {result.reason}")
        rates.append(result.count / seconds)
        cpu_rates.append(result.count / cpu)
        print(
            f"  verify run {run + 1}: {result.count:,} events in {seconds:.2f} s "
            f"= {rates[-1]:,.0f} events/s (per CPU second: {cpu_rates[-1]:,.0f})"
        )
    rate = statistics.median(rates)
    verdict = "ok" if rate >= VERIFY_TARGET else "MISSED"
    print(
        f"audit verify: median {rate:,.0f} events/s wall clock, "
        f"{statistics.median(cpu_rates):,.0f} per CPU second "
        f"(target >= {VERIFY_TARGET:,}/s: {verdict})"
    )


# --- (b) audited-read overhead ---------------------------------------------------


def bench_overhead(iterations: int) -> None:
    from recordroom.accounts.models import User
    from recordroom.audit.services import record
    from recordroom.kernel import actions
    from recordroom.kernel.actor import Actor
    from recordroom.records.chart import get_chart

    user_pk, patient_id = chart_fixture()

    def open_chart(audited: bool) -> None:
        user = User.objects.get(pk=user_pk)  # as the auth middleware does per request
        chart = get_chart(user=user, patient_id=patient_id)
        if audited:  # what web.views_chart.chart does after get_chart
            record(
                actor=Actor(
                    user=user,
                    channel="web",
                    client_address="127.0.0.1",
                    request_id=uuid.uuid4().hex,
                    purpose="TREAT",
                ),
                action=actions.CHART_OPEN.name,
                patient=chart.patient,
                obj=chart.patient,
            )

    for _ in range(100):  # warm-up
        open_chart(False)
        open_chart(True)
    wall: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(iterations):  # interleaved, so drift in load hits both arms alike
        for audited in (False, True):
            c0, t0 = time.thread_time(), time.perf_counter()
            open_chart(audited)
            wall[audited].append((time.perf_counter() - t0) * 1000)
            cpu[audited].append((time.thread_time() - c0) * 1000)
    print(f"\nchart open, {iterations:,} each, interleaved (ms)")
    print(f"  {'':<28} {'mean':>7} {'p50':>7} {'p95':>7} {'p99':>7}")
    stats = {}
    for kind, series in (("wall", wall), ("cpu", cpu)):
        for audited, label in ((False, "get_chart"), (True, "get_chart + record()")):
            st = stats[kind, audited] = _common.percentiles(series[audited])
            print(
                f"  {label + f' ({kind})':<28} {st['mean']:>7.3f} {st['p50']:>7.3f} "
                f"{st['p95']:>7.3f} {st['p99']:>7.3f}"
            )
    for kind in ("wall", "cpu"):
        p, a = stats[kind, False], stats[kind, True]
        mean_diff = a["mean"] - p["mean"]
        verdict = "ok" if mean_diff <= OVERHEAD_TARGET_MS else "MISSED"
        print(
            f"  audit adds ({kind}): mean {mean_diff:+.3f} ms, "
            f"p50 {a['p50'] - p['p50']:+.3f} ms, p95 {a['p95'] - p['p95']:+.3f} ms "
            f"(target <= {OVERHEAD_TARGET_MS:g} ms: {verdict})"
        )


def chart_fixture() -> tuple[Any, Any]:
    """A user with every facility in scope and one patient with a realistic chart."""
    from recordroom.accounts.models import User
    from recordroom.accounts.services import create_user
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.models import Facility, Patient
    from recordroom.mpi.services import (
        IdentifierIn,
        NameIn,
        PatientIn,
        register_patient,
    )
    from recordroom.records.models import DocumentType
    from recordroom.records.services import file_document, record_encounter

    actor = Actor(channel="cli", name="bench")
    user = User.objects.filter(username="bench-audit").first()
    if user is None:
        user = create_user(
            actor=actor, username="bench-audit", role="him_specialist",
            all_facilities=True,
        )  # fmt: skip
    patient = Patient.objects.filter(identifiers__value="BENCH-CHART-1").first()
    if patient is not None:
        return user.pk, patient.pk
    facility, _ = Facility.objects.get_or_create(
        code="BENCH",
        defaults={"name": "Bench Hospital", "mrn_system": "urn:oid:2.999.1"},
    )
    patient = register_patient(
        actor=actor,
        data=PatientIn(
            names=[NameIn(family="Benchmark", given="Charlotte")],
            identifiers=[
                IdentifierIn(kind="MR", value="BENCH-CHART-1", facility=facility)
            ],
            sex="female",
        ),
    )
    types = list(DocumentType.objects.all()[:6])
    now = datetime.now(UTC)
    for e in range(6):
        admit = now - timedelta(days=60 * e + 3)
        enc = record_encounter(
            actor=actor, patient=patient, facility=facility,
            account_number=f"BENCH-{e}", encounter_class="IMP", admit_at=admit,
            discharge_at=admit + timedelta(days=2),
        )  # fmt: skip
        for d in range(2):
            file_document(
                actor=actor, patient=patient, doc_type=types[(2 * e + d) % len(types)],
                data=_pdf(f"Benchmark note {e}-{d}"),
                filename=f"note-{e}-{d}.pdf", media_type="application/pdf",
                facility=facility, encounter=enc, service_start=admit,
            )  # fmt: skip
    return user.pk, patient.pk


def _pdf(text: str) -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


if __name__ == "__main__":
    sys.exit(main())
