"""`load_demo`: stream the synthetic population into the database, batch by batch.

Each batch of people is planned (pure, seeded), its documents rendered and stored
(in worker processes while the previous batch is being inserted), then inserted in
one transaction with its audit events. Memory holds at most two batches, so any
population size loads in bounded memory. A load that was interrupted resumes: batches
already in the database are recognised by their MRNs and skipped. A finished load
leaves one `demo.load` audit event; a second call finds it and adds nothing.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from recordroom.audit.models import AuditEvent
from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.mpi.models import PatientIdentifier

from .amendments import seed_amendments
from .clinical import plan_clinical
from .inbox import seed_provider_inboxes
from .people import RecordPlan, plan_people
from .places import TIMEZONE
from .queries import seed_queries
from .render import DocJob, render_and_store
from .roi import seed_release_desk
from .rows import Counts, count_plans, doc_jobs, write_batch
from .setup import Scenery, ensure_scenery

BATCH_PEOPLE = 250
MAX_PEOPLE = 4_000_000  # the MRN ranges (people.record_number) hold this many
POOL_THRESHOLD = 100  # people; below this, rendering in-process is faster than forking
DEMO_ACTOR = Actor(channel="demo")
TRUTH_COLUMNS = ("patient_id", "person_id", "mrn", "facility", "relation")


@dataclass
class DemoSummary:
    """What a load did (or, with already_loaded, what the earlier load did)."""

    patients: int = 0  # patient records, duplicates included
    encounters: int = 0
    documents: int = 0
    duplicates: int = 0  # duplicate records planted
    twins: int = 0  # records that belong to a twin
    already_loaded: bool = False
    seconds: float = 0.0
    people: int = 0  # distinct synthetic people (the `patients` argument)
    signatures: int = 0
    unsigned: int = 0  # documents needing a signature that have none
    scanned: int = 0  # image-only documents
    seed: int = 0
    ground_truth: str = ""
    release_requests: int = 0  # requests on the release desk (demo/roi.py)
    amendment_requests: int = 0  # requests on the amendments desk (demo/amendments.py)
    inbox_deficiencies: int = 0  # open in the demo providers' inboxes (demo/inbox.py)
    queries: int = 0  # compliant queries at every stage (demo/queries.py)


def load_demo(
    *,
    patients: int = 2000,
    seed: int = 42,
    data_dir: Path,
    progress: Callable[[int, int], None] | None = None,
    as_of: date | None = None,
    workers: int | None = None,
    actor: Actor | None = None,
    batch_size: int = BATCH_PEOPLE,
) -> DemoSummary:
    """Load `patients` synthetic people (deterministic for `seed` and `as_of`).

    Writes the ground truth to `data_dir/demo/ground-truth.csv`. `as_of` (default
    today) is the date the population's history leads up to. `workers` render
    documents in parallel (default: one per core for 100 people or more).
    """
    started = time.perf_counter()
    if not 1 <= patients <= MAX_PEOPLE:
        raise ValidationFailed(
            f"the demo loads 1 to {MAX_PEOPLE:,} patients, got {patients:,}"
        )
    if batch_size < 2 or batch_size % 2:
        raise ValidationFailed(
            f"batch size must be even and at least 2, got {batch_size}"
        )
    truth_path = Path(data_dir) / "demo" / "ground-truth.csv"
    earlier = _earlier_load()
    if earlier is not None:
        known = {
            k: v for k, v in earlier.items() if k in DemoSummary.__dataclass_fields__
        }
        known.update(
            already_loaded=True, seconds=round(time.perf_counter() - started, 2)
        )
        return DemoSummary(**known)
    as_of = as_of or clock.today(TIMEZONE)  # the demo facilities' calendar
    actor = actor or DEMO_ACTOR
    if workers is None:
        workers = (os.cpu_count() or 1) if patients >= POOL_THRESHOLD else 0
    counts = _load(
        seed=seed, people=patients, as_of=as_of, actor=actor, truth_path=truth_path,
        progress=progress, workers=workers, batch_size=batch_size,
    )  # fmt: skip
    # the release desk's requests and a few disclosures (demo/roi.py)
    summary = DemoSummary(
        **asdict(counts), people=patients, seed=seed, ground_truth=str(truth_path),
        release_requests=seed_release_desk(actor=actor, as_of=as_of),
        amendment_requests=seed_amendments(actor=actor, as_of=as_of),
        # queries first: a query waits in its provider's inbox too
        queries=seed_queries(actor=actor, as_of=as_of),
        inbox_deficiencies=seed_provider_inboxes(actor=actor),
        seconds=round(time.perf_counter() - started, 2),
    )  # fmt: skip
    detail = {k: v for k, v in asdict(summary).items() if k != "already_loaded"}
    detail["as_of"] = str(as_of)
    record_many([EventSpec(actor, actions.DEMO_LOAD.name, detail=detail)])
    return summary


def _load(
    *, seed: int, people: int, as_of: date, actor: Actor, truth_path: Path,
    progress: Callable[[int, int], None] | None, workers: int, batch_size: int,
) -> Counts:  # fmt: skip
    """Plan, render and insert batch after batch; batch k+1 renders while k inserts."""
    scenery = ensure_scenery()
    counts = Counts()
    resuming = _any_demo_patients(scenery)
    with _truth_writer(truth_path) as truth, _renderer(workers) as render:
        pending: tuple[list[RecordPlan], Any, int] | None = None
        for start in range(0, people, batch_size):
            stop = min(start + batch_size, people)
            plans = plan_batch(seed, start, stop, as_of)
            counts.add(count_plans(plans))
            loaded = _loaded_ids(plans, scenery) if resuming else {}
            if loaded:  # written by an interrupted earlier load: keep, skip
                if pending is not None:
                    _finish(pending, actor, scenery, truth, progress, people)
                    pending = None
                truth(plans, [loaded[(r.person, r.ordinal)] for r in plans])
                if progress:
                    progress(stop, people)
                continue
            handle = render(doc_jobs(seed, plans, scenery))
            if pending is not None:
                _finish(pending, actor, scenery, truth, progress, people)
            pending = (plans, handle, stop)
        if pending is not None:
            _finish(pending, actor, scenery, truth, progress, people)
    return counts


def plan_batch(seed: int, start: int, stop: int, as_of: date) -> list[RecordPlan]:
    plans = plan_people(seed, start, stop, as_of)
    for plan in plans:
        plan_clinical(seed, plan, as_of)
    return plans


def _finish(
    pending: tuple[list[RecordPlan], Any, int], actor: Actor, scenery: Scenery,
    truth: Callable[[list[RecordPlan], list[Any]], None],
    progress: Callable[[int, int], None] | None, total: int,
) -> None:  # fmt: skip
    plans, handle, stop = pending
    patients = write_batch(
        actor=actor, plans=plans, stored=handle.get(), scenery=scenery
    )
    truth(plans, [p.pk for p in patients])
    if progress:
        progress(stop, total)


def _earlier_load() -> dict[str, Any] | None:
    event = (
        AuditEvent.objects.filter(action=actions.DEMO_LOAD.name).order_by("-id").first()
    )
    return json.loads(event.detail) if event is not None else None


def _any_demo_patients(scenery: Scenery) -> bool:
    systems = [f.mrn_system for f in scenery.facilities.values()]
    return PatientIdentifier.objects.filter(
        kind__in=["MR", "EID"], system__in=systems
    ).exists()


def _loaded_ids(
    plans: list[RecordPlan], scenery: Scenery
) -> dict[tuple[int, int], Any]:
    """Patient ids of this batch's records if an interrupted load already wrote it."""
    wanted: dict[tuple[str, str], RecordPlan] = {}
    for plan in plans:
        code, value = next(iter(plan.mrns.items()))
        wanted[(scenery.facilities[code].mrn_system, value)] = plan
    rows = PatientIdentifier.objects.filter(
        kind__in=["MR", "EID"],
        system__in={s for s, _ in wanted},
        lookup__in=[v for _, v in wanted],
    ).values_list("system", "lookup", "patient_id", "patient__birth_date")
    found = {}
    for system, lookup, patient_id, birth_date in rows:
        match = wanted.get((system, lookup))
        if match is None:
            continue
        if birth_date != match.birth_date:
            raise Conflict(
                f"an interrupted demo load with another seed left MRN {lookup}; load the "
                "demo into a fresh data folder, or resume with the same --seed"
            )
        found[(match.person, match.ordinal)] = patient_id
    if found and len(found) != len(plans):
        raise Conflict(
            f"demo batch starting at person {plans[0].person} is partly loaded "
            f"({len(found)} of {len(plans)} records); load into a fresh data folder"
        )
    return found


@contextmanager
def _truth_writer(
    path: Path,
) -> Iterator[Callable[[list[RecordPlan], list[Any]], None]]:
    """Rows go to a temporary file that replaces the ground truth only when complete."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.partial")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(TRUTH_COLUMNS)

        def write(plans: list[RecordPlan], ids: list[Any]) -> None:
            for plan, patient_id in zip(plans, ids, strict=True):
                code = plan.primary_facility
                out.writerow(
                    (patient_id, plan.person_id, plan.mrns[code], code, plan.relation)
                )

        yield write
    os.replace(tmp, path)


class _Now:
    def __init__(self, value: list[tuple[str, int]]) -> None:
        self.value = value

    def get(self) -> list[tuple[str, int]]:
        return self.value


class _Chunks:
    """Jobs rendered by the pool in chunks (a chunk's blob writes overlap)."""

    def __init__(self, pool: Any, jobs: list[DocJob], size: int = 48) -> None:
        chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        self.result = pool.map_async(render_and_store, chunks, chunksize=1)

    def get(self) -> list[tuple[str, int]]:
        return [item for chunk in self.result.get() for item in chunk]


@contextmanager
def _renderer(workers: int) -> Iterator[Callable[[list[DocJob]], Any]]:
    if workers <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        yield lambda jobs: _Now(render_and_store(jobs))
        return
    # Forked workers only render and write blob files. They inherit the parent's
    # database connections and must leave them alone (not even close them: closing a
    # PostgreSQL connection would end the parent's session); they exit with os._exit.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        yield lambda jobs: _Chunks(pool, jobs)
