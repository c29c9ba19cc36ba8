"""The demo's fixed scenery: its two facilities and its medical staff (idempotent)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.kernel.npi import npi_problem
from recordroom.mpi.models import Facility
from recordroom.records.models import DocumentType, Provider

from .places import FACILITIES, TIMEZONE, FacilitySpec, roster


@dataclass
class Scenery:
    facilities: dict[str, Facility]  # by code
    providers: dict[str, Provider]  # by NPI
    doc_types: dict[str, DocumentType]  # by code


def ensure_scenery() -> Scenery:
    """Create the demo facilities and providers if missing; return them with doc types."""
    with transaction.atomic():
        facilities = {f.code: _facility(f) for f in FACILITIES}
        providers = _providers(facilities)
    doc_types = {t.code: t for t in DocumentType.objects.all()}
    return Scenery(facilities, providers, doc_types)


def _facility(spec: FacilitySpec) -> Facility:
    code = spec.code
    found = Facility.objects.filter(code=code).first()
    if found is None:
        return Facility.objects.create(
            code=code, name=spec.name, mrn_system=spec.mrn_system, timezone=TIMEZONE
        )
    if found.mrn_system != spec.mrn_system:
        raise Conflict(
            f"facility {code} already exists as '{found.name}' (MRN system "
            f"{found.mrn_system}), not as the demo's; load the demo into a fresh data "
            "folder (RECORDROOM_DATA_DIR)"
        )
    return found


def _providers(facilities: dict[str, Facility]) -> dict[str, Provider]:
    specs = roster()
    existing = {
        p.npi: p
        for p in Provider.objects.filter(npi__in=[s.npi for s in specs])
        if p.npi
    }
    new: list[Provider] = []
    links = []
    for spec in specs:
        if spec.npi in existing:
            continue
        problem = npi_problem(spec.npi)
        if problem:  # the roster is generated with check digits: this is a bug guard
            raise ValidationFailed(problem, field="npi")
        provider = Provider(
            npi=spec.npi, family=spec.family, given=spec.given,
            credentials=spec.credentials, specialty=spec.specialty,
        )  # fmt: skip
        new.append(provider)
        links += [
            Provider.facilities.through(
                provider_id=provider.pk, facility_id=facilities[c].pk
            )
            for c in spec.facilities
        ]
    Provider.objects.bulk_create(new)
    Provider.facilities.through.objects.bulk_create(links)
    existing.update({p.npi: p for p in new if p.npi})
    return existing


# --- the demo's scanned paper (issue 13) ------------------------------------------------

DEMO_SCANNER = "Demo scanner"


def demo_scan_folder(data_dir: Path) -> Path:
    """Where the demo's scanned batches and their ground truth are written."""
    return Path(data_dir) / "demo" / "scans"


def feed_demo_capture_queue(data_dir: Path, *, seed: int, actor: Actor) -> list[Path]:
    """Six mixed scanned batches (about 40 pages, one of each format) from the loaded
    population, written once into `demo_scan_folder`, then handed to capture intake
    so the demo opens with a populated indexing queue.

    Intake (`capture.intake.receive_file`, which enqueues the pipeline for the demo's
    worker) is called when this tree has it; until then only the files are written.
    Idempotent: files already written are reused, and batches already received from
    the demo scanner are not received again.
    """
    from .scans import (
        TRUTH_SUFFIX,
        demo_batches,
        original_records,
        population_from_db,
    )

    folder = demo_scan_folder(data_dir)
    paths = sorted(
        p for p in folder.glob("batch-*") if not p.name.endswith(TRUTH_SUFFIX)
    )
    if not paths:
        only = original_records(data_dir)  # not the planted duplicate records
        people = population_from_db(limit=200, only=only)
        paths = demo_batches(folder, seed=seed, population=people)
    try:  # cap-pipe's intake: imported by name until it is merged
        intake = importlib.import_module("recordroom.capture.intake")
    except ImportError:
        return paths
    from recordroom.capture.models import CaptureBatch

    if CaptureBatch.objects.filter(source__name=DEMO_SCANNER).exists():
        return paths
    facility = Facility.objects.filter(code=FACILITIES[0].code).first()
    source = intake.source_named(DEMO_SCANNER, kind="scanner", facility=facility)
    for path in paths:
        intake.receive_file(actor=actor, data=path.read_bytes(), filename=path.name,
                            source=source, facility=facility)  # fmt: skip
    return paths
