"""Shared by the linkage benchmarks: each engine in a child process of its own (so
each peak RSS and CPU time is its own), pair scores against a ground truth, and our
scan's blocking recall."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np


def peak_mib() -> float:
    """Peak RSS of this process plus the largest of its children (a large index is
    read by two processes at once): an upper bound of what the run held.

    This process's own peak is VmHWM, its memory's high-water mark since exec:
    getrusage's ru_maxrss survives exec on Linux, so a child started by a parent
    holding the population would report the parent's peak."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/status") as fh:
            own = next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def cpu_s() -> float:
    """CPU seconds of this process (all its threads) and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        used = resource.getrusage(who)
        total += used.ru_utime + used.ru_stime
    return total


def run_child(script: str, engine: str, argv: list[str]) -> dict[str, Any]:
    """Run `script --engine ENGINE argv...` and return the JSON it prints as RESULT."""
    cmd = [sys.executable, script, "--engine", engine, *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        raise SystemExit(
            f"{engine} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return json.loads(line[len("RESULT ") :])  # type: ignore[no-any-return]


def scores(
    pairs: list[Any], truth: set[tuple[str, str]], threshold: float
) -> dict[str, float]:
    found = {(a, b) for a, b, p in pairs if p >= threshold}
    hit = len(found & truth)
    precision = hit / len(found) if found else 0.0
    recall = hit / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": len(found)}


def grid(pairs: list[Any]) -> list[float]:
    """Thresholds worth trying: 0.5, and the probabilities near the top."""
    probs = sorted({round(p, 12) for _, _, p in pairs})
    step = max(1, len(probs) // 400)
    return [0.5, *probs[::step]]


def best(pairs: list[Any], truth: set[tuple[str, str]]) -> dict[str, float]:
    """The best F1 over `grid` thresholds, with its threshold `t`."""
    return max(
        (scores(pairs, truth, t) | {"t": t} for t in grid(pairs)),
        key=lambda x: x["f1"],
    )


def our_scan(min_keep: float, truth: set[tuple[str, str]] | None) -> dict[str, Any]:
    """Our whole `mpi scan` (read, block, train, score, write the worklist, cluster),
    timed; then, untimed, which true pairs its blocking compared at all."""
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.linkage.services import scan_index

    started, cpu = time.perf_counter(), cpu_s()
    run = scan_index(actor=Actor(channel="bench", name="bench"), resume=False)
    seconds, cpu = time.perf_counter() - started, cpu_s() - cpu
    peak = peak_mib()
    pairs = run.pairs.filter(probability__gte=min_keep).values_list(
        "left_id", "right_id", "probability"
    )
    out = {
        "pairs": [(*sorted((str(a), str(b))), p) for a, b, p in pairs],
        "total_s": seconds,
        "cpu_s": cpu,
        "peak_mib": peak,
        "candidate_pairs": run.candidate_pairs,
        "blocking": run.blocking,
    }
    if truth is not None:
        out["blocking_recall"] = our_blocking_recall(run.model, truth)
    return out


def our_blocking_recall(model: dict[str, Any], truth: set[tuple[str, str]]) -> float:
    """Share of the true pairs the scan's blocking rules put in front of the model."""
    from recordroom.mpi.linkage.blocking import candidate_pairs
    from recordroom.mpi.linkage.loading import load_index
    from recordroom.mpi.linkage.model import LinkageModel

    table = load_index()
    left, right, _ = candidate_pairs(LinkageModel.from_dict(model), table)
    row = {key: i for i, key in enumerate(table.keys[:])}
    n = len(table)
    lo, hi = np.minimum(left, right).astype(np.int64), np.maximum(left, right)
    compared = np.unique(lo * n + hi.astype(np.int64))
    wanted = [(row[a], row[b]) for a, b in truth if a in row and b in row]
    if not wanted:
        return 0.0
    w = np.array([min(a, b) * n + max(a, b) for a, b in wanted], dtype=np.int64)
    return float(np.isin(w, compared).sum()) / len(truth)
