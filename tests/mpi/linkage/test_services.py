"""The scan over a real database: resumable, audited, pairs CSV in its documented
format; and search before create against the scanned index."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.demo.people import plan_people
from recordroom.demo.rows import write_batch
from recordroom.demo.setup import ensure_scenery
from recordroom.kernel.actor import Actor
from recordroom.mpi.linkage.models import CandidatePair, LinkageRun, RunStatus
from recordroom.mpi.linkage.realtime import match_patient
from recordroom.mpi.linkage.services import PAIR_COLUMNS, export_pairs, scan_index
from recordroom.mpi.models import Facility
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn
from tests import factories

ACTOR = Actor(channel="cli", name="cli:tester")
U = 100_000  # random pairs for u (the default million is for real indexes)


@pytest.fixture
def population(db):
    """400 of the demo generator's people (about 20 planted duplicates, twins)."""
    plans = plan_people(11, 0, 400, date(2026, 1, 1))
    patients = write_batch(
        actor=ACTOR, plans=plans, stored=[], scenery=ensure_scenery()
    )
    return plans, patients


def _truth(plans, patients) -> set[tuple[str, str]]:
    by_person: dict[int, list[str]] = {}
    for plan, patient in zip(plans, patients, strict=True):
        by_person.setdefault(plan.person, []).append(str(patient.pk))
    return {tuple(sorted(ids)) for ids in by_person.values() if len(ids) == 2}


def _pairs(run) -> dict[tuple[str, str], float]:
    return {
        (str(a), str(b)): p
        for a, b, p in run.pairs.values_list("left_id", "right_id", "probability")
    }


def test_scan_finds_the_planted_duplicates_and_is_audited(population):
    plans, patients = population
    run = scan_index(actor=ACTOR, chunk_size=500, u_pairs=U)
    assert run.status == RunStatus.FINISHED and run.records == len(plans)
    likely = {k for k, p in _pairs(run).items() if p >= 0.9}
    truth = _truth(plans, patients)
    assert len(truth) >= 10
    assert len(likely & truth) / len(truth) >= 0.95
    assert len(likely & truth) / len(likely) >= 0.95
    assert run.model["training"]["trained"] is True
    pair = run.pairs.first()
    assert sum(e["weight"] for e in pair.evidence) == pytest.approx(
        pair.match_weight, abs=0.01
    )
    assert pair.cluster is not None
    actions = list(
        AuditEvent.objects.filter(action__startswith="mpi.scan").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["mpi.scan", "mpi.scan_start"]


def test_an_interrupted_scan_resumes_where_it_stopped(population):
    first = scan_index(actor=ACTOR, chunk_size=8, stop_after_chunks=2, u_pairs=U)
    assert first.status == RunStatus.RUNNING and first.chunks_done == 2
    assert first.chunks_total > 2
    kept_so_far = CandidatePair.objects.filter(run=first).count()

    resumed = scan_index(actor=ACTOR, chunk_size=8, u_pairs=U)
    assert resumed.pk == first.pk and resumed.status == RunStatus.FINISHED
    assert resumed.chunks_done == resumed.chunks_total
    assert resumed.stored_pairs >= kept_so_far

    fresh = scan_index(actor=ACTOR, chunk_size=8, resume=False, u_pairs=U)
    assert fresh.pk != first.pk
    assert fresh.model == resumed.model  # same seed, same index: same model
    assert _pairs(fresh) == pytest.approx(_pairs(resumed))
    starts = AuditEvent.objects.filter(action="mpi.scan_start").order_by("id")
    assert [json.loads(e.detail)["resumed"] for e in starts] == [False, True, False]


def test_a_scan_of_a_changed_index_starts_over(population):
    first = scan_index(actor=ACTOR, chunk_size=8, stop_after_chunks=1, u_pairs=U)
    north = Facility.objects.get(code="NORTH")
    factories.patient(facility=north, family="Quist", given="Ola")
    second = scan_index(actor=ACTOR, chunk_size=8, u_pairs=U)
    first.refresh_from_db()
    assert first.status == RunStatus.ABANDONED
    assert second.pk != first.pk and second.status == RunStatus.FINISHED
    assert second.records == first.records + 1 or first.records == 0


def test_pairs_csv_format(population):
    scan_index(actor=ACTOR, u_pairs=U)
    out = io.StringIO()
    count = export_pairs(actor=ACTOR, out=out, min_probability=0.5)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == PAIR_COLUMNS
    assert rows[0] == ["left_id", "right_id", "left_identifiers", "right_identifiers",
                       "probability", "match_weight", "status", "resolution",
                       "assignee", "on_worklist_since"]  # fmt: skip
    assert count == len(rows) - 1 > 0
    probabilities = [float(r[4]) for r in rows[1:]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert min(probabilities) >= 0.5
    for left, right, left_ids, right_ids, prob, weight, *work in rows[1:]:
        status, resolution, assignee, since = work
        assert (status, resolution, assignee) == ("open", "", "")
        assert since[:4].isdigit() and since[10] == "T"
        assert left < right
        for cell in (left_ids, right_ids):
            for entry in cell.split(";"):
                system, _, value = entry.partition("|")
                assert system and value
                if system.endswith("us-ssn"):
                    assert re.fullmatch(r"\*\*\*-\*\*-\d{4}", value)
        assert re.fullmatch(r"\d\.\d{6}", prob) and re.fullmatch(
            r"-?\d+\.\d{4}", weight
        )
    assert not re.search(r"\b9\d{2}-?\d{2}-?\d{4}\b", out.getvalue())  # no clear SSN
    event = AuditEvent.objects.get(action="mpi.pairs_export")
    assert json.loads(event.detail)["pairs"] == count


def test_search_before_create_ranks_the_same_person_first(population):
    plans, patients = population
    run = scan_index(actor=ACTOR, u_pairs=U)
    assert LinkageRun.objects.get(pk=run.pk).status == RunStatus.FINISHED
    plan, patient = next(
        (p, pt) for p, pt in zip(plans, patients, strict=True)
        if p.ssn and p.relation == "original" and p.legal.given
    )  # fmt: skip
    incoming = PatientIn(
        names=[NameIn(family=plan.legal.family.upper(), given=plan.legal.given)],
        birth_date=plan.birth_date,
        sex=plan.sex,
        identifiers=[IdentifierIn(kind="SS", value=plan.ssn),
                     IdentifierIn(kind="MR", value="Z999",
                                  facility=Facility.objects.get(code="NORTH"))],
    )  # fmt: skip
    found = match_patient(data=incoming, limit=5)
    assert found[0].patient_id == str(patient.pk)
    assert found[0].probability > 0.99
    levels = {e["comparison"]: e["level"] for e in found[0].evidence}
    assert levels["ssn"] == "same number" and levels["birth_date"] == "exact"
    nobody = PatientIn(names=[NameIn(family="Unknown", given="Baby Girl")],
                       birth_date=date(1900, 1, 1))  # fmt: skip
    assert match_patient(data=nobody) == []
