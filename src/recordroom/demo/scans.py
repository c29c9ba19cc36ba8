"""Scanned batches with ground truth: rendered pages of the demo's kinds of document,
scanned (noise, skew, turns, blank backs, stamps, fax resolution, cover sheets with
our barcode, separator sheets, mixed patients) and written as PDF, multi-page TIFF
(CCITT G4), PNG or JPEG, each file beside `<name>.truth.json`.

The population comes from the database (`population_from_db`, what `recordroom demo`
loads) or from plain records (`Population` of `Person`, `Visit`, `Site`), so a
benchmark can use any. Everything is a pure function of the population and the seed;
batches render in worker processes (scan_plan plans, scan_pages renders).

A truth file holds the batch (`file`, `format`, `profile`, `dpi`, `bilevel`,
`received`, `patients`), its `documents` (index, patient_id, encounter_id or null,
doc_type code, service_date, layout: ours/outside/lab, identifiers: mrn+name+dob or
name+dob, cover: qrcode/datamatrix or null with its `cover_text`, printed_pages: the
cover's page count, `pages`: every page of the document in the file, `kept_pages`:
those that belong in the chart) and its `pages` (page: 1-based; patient_id, doc_type,
encounter_id, service_date: null on a cover, separator or blank page; document: the
index of the document it belongs to, a cover's the one it starts, a separator's null;
blank, cover, separator, back; rotation: degrees turned counter-clockwise; skew;
features: the realism drawn on it).
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .places import BY_CODE
from .scan_pages import render_batch
from .scan_plan import (
    PROFILES,
    TRUTH_SUFFIX,
    TYPES,
    BatchPlan,
    Person,
    Planner,
    Population,
    Site,
    Visit,
)

__all__ = [
    "PROFILES", "TRUTH_SUFFIX", "TYPES", "GeneratedSet", "Person", "Population", "Site",
    "Visit", "demo_batches", "generate", "plan_batches", "population_from_db",
    "original_records", "population_from_plans",
    "read_truth",
]  # fmt: skip

DEMO_BATCHES = 6


@dataclass
class GeneratedSet:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    pages: int = 0
    documents: int = 0
    seconds: float = 0.0
    features: dict[str, int] = field(default_factory=dict)  # feature: pages showing it
    formats: dict[str, int] = field(default_factory=dict)  # profile: batches

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def population_from_db(
    *, limit: int | None = 400, only: set[str] | None = None
) -> Population:
    """Patients (with an MRN and a birth date, not merged away; among `only` when
    given), their visits, the facilities and providers, as the database holds them
    (the demo's load or any)."""
    from recordroom.mpi.models import Facility, Patient
    from recordroom.records.models import Encounter, Provider

    facilities = {f.mrn_system: f for f in Facility.objects.all()}
    sites = {
        f.code: Site(f.code, f.name, *(
            (BY_CODE[f.code].address, BY_CODE[f.code].phone) if f.code in BY_CODE
            else ("", "")))
        for f in facilities.values()
    }  # fmt: skip
    query = (
        Patient.objects.filter(merged_into__isnull=True, birth_date__isnull=False)
        .prefetch_related("names", "identifiers")
        .order_by("id")
    )
    if only is not None:
        query = query.filter(pk__in=sorted(only))
    people = []
    for p in query[:limit] if limit else query:
        name = next((n for n in p.names.all() if n.use == "legal" and not n.period_end),
                    None) or next(iter(p.names.all()), None)  # fmt: skip
        mrn = next((i for i in p.identifiers.all()
                    if i.kind == "MR" and i.system in facilities), None)  # fmt: skip
        if name is None or mrn is None or p.birth_date is None:
            continue
        people.append(Person(str(p.pk), name.family, name.given or "", p.birth_date,
                             p.sex, mrn.value, facilities[mrn.system].code))  # fmt: skip
    ids = [p.id for p in people]
    visits = []
    encounters = Encounter.objects.filter(patient_id__in=ids, admit_at__isnull=False)
    for e in encounters.select_related("facility", "attending").order_by("id"):
        if e.admit_at is None:
            continue
        doctor = e.attending
        visits.append(Visit(
            str(e.pk), str(e.patient_id), e.facility.code, e.account_number,
            e.encounter_class, e.admit_at, e.discharge_at,
            f"{doctor.given} {doctor.family}, {doctor.credentials}" if doctor else "",
        ))  # fmt: skip
    authors = [
        f"{p.given} {p.family}, {p.credentials}".rstrip(", ")
        for p in Provider.objects.order_by("npi")[:200]
    ]
    return Population(people, visits, sites, authors)


def original_records(data_dir: Path) -> set[str] | None:
    """The patient ids of the demo's first registrations (its ground truth's
    `original` and `twin` records: not the planted duplicates, whose papers would name
    the same person as another record), or None when no demo was loaded there."""
    path = Path(data_dir) / "demo" / "ground-truth.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        return {
            row["patient_id"]
            for row in csv.DictReader(fh)
            if row["relation"] in ("original", "twin")
        }


def population_from_plans(*, people: int = 300, seed: int = 42,
                          as_of: date | None = None) -> Population:  # fmt: skip
    """The demo generator's people and visits without a database (ids derived from
    the seed: stable, but not rows of any database), for benchmarks that need only
    the pages."""
    from .clinical import plan_clinical
    from .people import plan_people
    from .places import FACILITIES

    as_of = as_of or date(2026, 12, 1)
    found: list[Person] = []
    visits: list[Visit] = []
    for plan in plan_people(seed, 0, people + people % 2, as_of):
        plan_clinical(seed, plan, as_of)
        pid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"rr-demo:{seed}:{plan.person}:"
                             f"{plan.ordinal}"))  # fmt: skip
        name = plan.legal
        code = next(iter(plan.mrns))
        found.append(Person(pid, name.family, name.given, plan.birth_date, plan.sex,
                            plan.mrns[code], code))  # fmt: skip
        for enc in plan.encounters:
            visits.append(Visit(
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"{pid}:{enc.ordinal}")), pid,
                enc.facility, enc.account, enc.cls, enc.admit, enc.discharge,
                enc.attending.display,
            ))  # fmt: skip
    sites = {f.code: Site(f.code, f.name, f.address, f.phone) for f in FACILITIES}
    return Population(found, visits, sites, sorted({v.attending for v in visits}))


def plan_batches(population: Population, *, seed: int, pages: int) -> list[BatchPlan]:
    """Batches until at least `pages` pages (the first six: one of each format)."""
    planner = Planner(population, seed)
    plans: list[BatchPlan] = []
    total = 0
    while total < pages:
        plan = planner.batch(len(plans))
        plans.append(plan)
        total += len(plan.pages)
    return plans


def _render(args: tuple[BatchPlan, str]) -> dict[str, Any]:
    plan, out_dir = args
    return render_batch(plan, Path(out_dir))


@contextmanager
def _mapper(processes: int) -> Iterator[Callable[..., Any]]:
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield map
        return
    # Forked workers only draw and write files; they never touch the parent's
    # database connections.
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        yield lambda fn, items: pool.imap(fn, items, chunksize=1)


def generate(
    population: Population, out_dir: Path, *, seed: int = 42, pages: int = 2000,
    processes: int = 2, progress: Callable[[int, int], None] | None = None,
) -> GeneratedSet:  # fmt: skip
    """Write scanned batches of at least `pages` pages into `out_dir`, each file beside
    its ground truth (`<batch>.truth.json`), and `manifest.json` listing them."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plans = plan_batches(population, seed=seed, pages=pages)
    result = GeneratedSet(out_dir)
    total = sum(len(p.pages) for p in plans)
    with _mapper(processes) as run:
        for found in run(_render, [(p, str(out_dir)) for p in plans]):
            result.files.append(out_dir / found["file"])
            result.pages += found["page_count"]
            result.documents += len(found["documents"])
            result.formats[found["profile"]] = (
                result.formats.get(found["profile"], 0) + 1
            )
            for page in found["pages"]:
                for feature in page["features"]:
                    result.features[feature] = result.features.get(feature, 0) + 1
            if len(found["patients"]) > 1:
                result.features["mixed-patients"] = (
                    result.features.get("mixed-patients", 0) + 1
                )
            if progress:
                progress(result.pages, total)
    result.seconds = round(time.perf_counter() - started, 2)
    manifest = {
        "seed": seed, "pages": result.pages, "documents": result.documents,
        "batches": [f.name for f in result.files], "features": result.features,
        "formats": result.formats,
    }  # fmt: skip
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return result


def read_truth(path: Path) -> dict[str, Any]:
    """The ground truth of a batch file (or of its truth file)."""
    path = Path(path)
    if not path.name.endswith(TRUTH_SUFFIX):
        path = path.with_name(path.name.rsplit(".", 1)[0] + TRUTH_SUFFIX)
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def demo_batches(out_dir: Path, *, seed: int, population: Population | None = None,
                 processes: int = 1) -> list[Path]:  # fmt: skip
    """A few mixed scanned batches (six, about 40 pages: one of each format) for the
    demo's indexing queue, from the loaded population unless one is given."""
    population = population or population_from_db(limit=200)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plans = [Planner(population, seed).batch(n) for n in range(DEMO_BATCHES)]
    with _mapper(processes) as run:
        done = list(run(_render, [(p, str(out_dir)) for p in plans]))
    return [out_dir / d["file"] for d in done]
