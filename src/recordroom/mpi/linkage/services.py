"""Scanning the index for duplicates (resumable, audited) and exporting the
candidate pairs as CSV."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from typing import IO, Any

import numpy as np
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.mpi.models import PatientIdentifier

from .blocking import candidate_pairs
from .clusters import clusters
from .defaults import default_model
from .estimate import train
from .features import Table
from .loading import fingerprint, load_index
from .model import LinkageModel
from .models import CandidatePair, LinkageRun, MatchDecision, MatchOutcome, RunStatus
from .pairstore import insert_pairs, pairs_by_probability, set_clusters
from .scoring import score

Progress = Callable[[str, int, int], None]
PAIR_COLUMNS = (
    "left_id", "right_id", "left_identifiers", "right_identifiers", "probability",
    "match_weight", "status", "resolution", "assignee", "on_worklist_since",
)  # fmt: skip


def scan_index(
    *, actor: Actor, progress: Progress | None = None, resume: bool = True,
    seed: int = 1, min_probability: float = 0.05, chunk_size: int = 200_000,
    stop_after_chunks: int | None = None, u_pairs: int = 1_000_000,
) -> LinkageRun:  # fmt: skip
    """Find candidate duplicate pairs across the whole index.

    Loads the index, blocks, trains the model (once per run: the model is kept on
    the run), scores the candidate pairs chunk by chunk and keeps those with at
    least `min_probability`, then groups them into clusters. Each chunk commits
    with the run's cursor, so an interrupted scan resumes where it stopped, with
    the same model; if the index changed meanwhile the old run is abandoned and a
    new one starts. `stop_after_chunks` stops early (tests use it as a crash);
    `u_pairs` random pairs estimate the u probabilities.
    """
    if not 0 < min_probability < 1:
        raise ValidationFailed(
            f"the probability to keep a pair is between 0 and 1, got {min_probability}",
            field="min_probability",
        )
    print_ = progress or (lambda phase, done, total: None)
    run = _start(actor, resume, seed, min_probability, chunk_size)
    table = load_index(progress)
    model_ = LinkageModel.from_dict(run.model) if run.model else default_model()
    left, right, stats = candidate_pairs(model_, table)
    if not run.model:
        print_("train", 0, 1)
        train(model_, table, left, right, seed=run.seed, u_pairs=u_pairs)
        run.model, run.phase = model_.to_dict(), "score"
        run.records, run.candidate_pairs = len(table), len(left)
        run.chunks_total = max(1, math.ceil(len(left) / run.chunk_size))
        run.blocking = [asdict(s) for s in stats]
        run.save()
        print_("train", 1, 1)
    model_ = LinkageModel.from_dict(run.model)
    start = run.chunks_done
    for k in range(start, run.chunks_total):
        if stop_after_chunks is not None and k - start >= stop_after_chunks:
            return run
        _score_chunk(run, model_, table, left, right, k)
        print_("score", k + 1, run.chunks_total)
    return _finish(actor, run)


def _start(
    actor: Actor, resume: bool, seed: int, min_probability: float, chunk_size: int
) -> LinkageRun:
    stamp = fingerprint()
    with transaction.atomic():
        open_runs = LinkageRun.objects.select_for_update().filter(
            status=RunStatus.RUNNING
        )
        for old in open_runs:
            if resume and old.fingerprint == stamp:
                record(
                    actor=actor, action=actions.MPI_SCAN_START.name, obj=old,
                    detail={"run": str(old.pk), "resumed": True,
                            "chunks_done": old.chunks_done},
                )  # fmt: skip
                return old
            old.status = RunStatus.ABANDONED
            old.save(update_fields=["status"])
        run = LinkageRun.objects.create(
            fingerprint=stamp, seed=seed, min_probability=min_probability,
            chunk_size=chunk_size, started_by=actor.username,
        )  # fmt: skip
        record(
            actor=actor, action=actions.MPI_SCAN_START.name, obj=run,
            detail={"run": str(run.pk), "resumed": False, "seed": seed},
        )  # fmt: skip
    return run


def _score_chunk(
    run: LinkageRun, model: LinkageModel, table: Table, left: np.ndarray,
    right: np.ndarray, k: int,
) -> None:  # fmt: skip
    lo, hi = k * run.chunk_size, min((k + 1) * run.chunk_size, len(left))
    scored = score(model, table, left[lo:hi], right[lo:hi])
    keep = np.flatnonzero(scored.probability >= run.min_probability)
    rows = []
    hexes = _hex_keys(table)
    evidence = scored.evidence_rows(model, keep)
    for j, ev, prob, weight in zip(
        keep.tolist(), evidence, scored.probability[keep].tolist(),
        scored.match_weight[keep].tolist(), strict=True,
    ):  # fmt: skip
        a, b = hexes(int(scored.left[j])), hexes(int(scored.right[j]))
        if a > b:  # left id < right id, whatever the table order
            a, b = b, a
        rows.append((a, b, prob, round(weight, 4), ev))
    with transaction.atomic():
        insert_pairs(run, rows)
        run.chunks_done = k + 1
        run.stored_pairs += len(rows)
        run.save(update_fields=["chunks_done", "stored_pairs"])


def _hex_keys(table: Table) -> Callable[[int], str]:
    """Row -> patient id as 32 hex digits (the order of these is the ids' order)."""
    found = getattr(table.keys, "hexes", None)
    if found is not None:
        return lambda i: found[i].decode()  # type: ignore[no-any-return]
    return lambda i: str(table.keys[i]).replace("-", "")


def _finish(actor: Actor, run: LinkageRun) -> LinkageRun:
    pairs = pairs_by_probability(run)
    groups = clusters((a, b) for _, a, b in pairs)
    with transaction.atomic():
        set_clusters([(groups[a], pk) for pk, a, _ in pairs])
        run.clusters = len(set(groups.values()))
        run.status, run.phase = RunStatus.FINISHED, "done"
        run.finished_at = timezone.now()
        _stamp_since(run)
        run.save()
        record(
            actor=actor, action=actions.MPI_SCAN.name, obj=run,
            detail={"run": str(run.pk), "model": run.model.get("name", ""),
                    "records": run.records, "candidate_pairs": run.candidate_pairs,
                    "kept_pairs": run.stored_pairs, "clusters": run.clusters,
                    "min_probability": run.min_probability},
        )  # fmt: skip
    from recordroom.mpi.pair_worklist import reopen_lapsed

    reopen_lapsed(actor=actor, run=run)
    return run


def _stamp_since(run: LinkageRun) -> None:
    """Each pair's time on the worklist: carried from the previous finished scan
    that found it (an older run without the stamp: its end), else this scan's end;
    a registration that sent the pair to review earlier moves it back. Two UPDATEs,
    each pair a probe of the previous run's (run, left, right) index."""
    previous = (
        LinkageRun.objects.filter(status=RunStatus.FINISHED,
                                  finished_at__lt=run.finished_at)
        .exclude(pk=run.pk).order_by("-finished_at").first()
    )  # fmt: skip
    pairs = CandidatePair.objects.filter(run=run)
    carried = (
        CandidatePair.objects.filter(run=previous, left=OuterRef("left"),
                                     right=OuterRef("right"))
        .values(since=Coalesce("on_worklist_since", "run__finished_at"))[:1]
    )  # fmt: skip
    pairs.update(on_worklist_since=Coalesce(Subquery(carried), Value(run.finished_at)))
    same = Q(patient=OuterRef("left"), candidate=OuterRef("right")) | Q(
        patient=OuterRef("right"), candidate=OuterRef("left")
    )
    sent = (
        MatchDecision.objects.filter(same, outcome=MatchOutcome.REVIEW)
        .order_by("decided_at")
        .values("decided_at")[:1]
    )
    pairs.filter(Exists(sent)).update(
        on_worklist_since=Least("on_worklist_since", Subquery(sent))
    )


def latest_run() -> LinkageRun:
    run = LinkageRun.objects.filter(status=RunStatus.FINISHED).first()
    if run is None:
        raise NotFound("no finished duplicate scan; run `recordroom mpi scan` first")
    return run


def _identifier_cells(patient_ids: list[Any]) -> dict[str, str]:
    """Patient id -> 'system|value;...' (an SSN shows its masked value only)."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(patient_ids), 500):
        rows = PatientIdentifier.objects.filter(
            patient_id__in=patient_ids[start : start + 500]
        ).values_list("patient_id", "system", "value")
        for pid, system, value in rows:
            found.setdefault(str(pid), []).append(f"{system}|{value}")
    return {pid: ";".join(sorted(cells)) for pid, cells in found.items()}


def iter_pair_rows(qs: Any) -> Iterator[tuple[Any, ...]]:
    """CSV rows (PAIR_COLUMNS) of worklist pairs (pair_worklist.filtered)."""
    from recordroom.accounts.models import User

    names = dict(User.objects.values_list("pk", "username"))
    batch: list[tuple[Any, ...]] = []
    for row in qs.values_list(
        "left_id",
        "right_id",
        "probability",
        "match_weight",
        "status",
        "resolution",
        "assignee_id",
        "since",
    ).iterator(chunk_size=2000):
        batch.append((*row[:6], names.get(row[6], ""), row[7]))
        if len(batch) == 2000:
            yield from _rows_with_identifiers(batch)
            batch = []
    yield from _rows_with_identifiers(batch)


def _rows_with_identifiers(batch: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    ids = list({pid for row in batch for pid in row[:2]})
    cells = _identifier_cells(ids)
    for left, right, prob, weight, status, resolution, assignee, since in batch:
        yield (str(left), str(right), cells.get(str(left), ""),
               cells.get(str(right), ""), f"{prob:.6f}", f"{weight:.4f}", status,
               resolution, assignee, since.isoformat(timespec="seconds"))  # fmt: skip


def export_pairs(
    *, actor: Actor, out: IO[str], min_probability: float = 0.0,
    run: LinkageRun | None = None, destination: str = "stdout",
    filters: Any = None,
) -> int:  # fmt: skip
    """Write the latest finished scan's pairs as CSV, every status unless
    `filters` (a pair_worklist.PairFilter) narrows them; audited.

    Raises:
        ValidationFailed: a probability out of range, a bad filter.
        NotFound: no scan has finished.
    """
    from recordroom.mpi.pair_worklist import PairFilter, filtered

    if not 0 <= min_probability <= 1:
        raise ValidationFailed(
            f"--min-probability is between 0 and 1, got {min_probability}",
            field="min_probability",
        )
    filters = filters or PairFilter(status="all")
    if min_probability:
        filters = replace(filters, min_probability=min_probability)
    run = run or latest_run()
    qs = filtered(run, actor.user, filters)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PAIR_COLUMNS)
    count = 0
    try:
        for row in iter_pair_rows(qs):
            writer.writerow(row)
            count += 1
    finally:
        record(
            actor=actor, action=actions.MPI_PAIRS_EXPORT.name, obj=run,
            detail={"run": str(run.pk), "pairs": count,
                    "min_probability": min_probability, "filters": filters.params(),
                    "output": destination},
        )  # fmt: skip
    return count
