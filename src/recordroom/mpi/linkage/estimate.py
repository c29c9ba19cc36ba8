"""Training without labels, as Splink does: u (agreement among non-matches) from
random pairs, m (agreement among matches) by expectation maximisation on blocked
pairs, one session per training rule with that rule's own fields left out, and the
prior from the candidate pairs. Seeds are explicit: the same index and seed give
the same model."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np

from .blocking import rule_pairs
from .features import Table
from .levels import levels_of
from .model import Level, LinkageModel
from .scoring import apply_guards, comparison_levels

# Training rule -> comparisons its blocking biases (estimated in other sessions).
SESSIONS: dict[str, tuple[str, ...]] = {
    # pairs sharing an SSN are nearly all one person: how often their names and
    # birth dates differ is what a keying slip looks like (m for names)
    "ssn": ("ssn",),
    "dob": ("birth_date",),
    "name_initials": ("family_name", "given_name"),
}
SESSION_CAP = 100  # records per block in a training session (larger blocks skipped)
M_FLOOR = 1e-5
U_CHUNK = 250_000


@dataclass
class TrainingReport:
    u_pairs: int
    sessions: dict[str, dict[str, float]]  # rule -> {pairs, iterations, lambda}
    prior_candidates: float


def estimate_u(model: LinkageModel, t: Table, *, pairs: int, seed: int) -> int:
    """u of every non-fixed level: its share among random pairs (smoothed)."""
    n = len(t)
    if n < 2:
        return 0
    # a small index has few distinct pairs: sampling many more only costs time
    pairs = min(pairs, max(50_000, n * (n - 1) // 2))
    rng = np.random.default_rng(seed)
    counts = [np.zeros(len(c.levels), np.int64) for c in model.comparisons]
    # a comparison whose levels are all fixed (the guards) has no u to estimate
    wanted = [
        c for c, comp in enumerate(model.comparisons)
        if any(not lv.fixed and not lv.is_null for lv in comp.levels)
    ]  # fmt: skip
    for start in range(0, pairs, U_CHUNK):  # in chunks: memory stays flat
        size = min(U_CHUNK, pairs - start)
        left = rng.integers(0, n, size)
        right = rng.integers(0, n - 1, size)
        right = right + (right >= left)  # never a record with itself
        # random pairs are seen once: a memo of their own for each chunk (the two
        # thresholds of a name share it) keeps them out of the table's, which
        # EM and scoring reuse, and keeps each memo's sort small
        scratch = dataclasses.replace(t, memo={})
        for c in wanted:
            comp = model.comparisons[c]
            kinds = [(lv.kind, lv.params) for lv in comp.levels]
            levels = levels_of(scratch, left, right, kinds)
            counts[c] += np.bincount(levels, minlength=len(comp.levels))
    for c, comp in enumerate(model.comparisons):
        real = [k for k, lv in enumerate(comp.levels) if not lv.is_null]
        total = counts[c][real].sum()
        for k in real:
            level = comp.levels[k]
            if not level.fixed:
                level.u = float((counts[c][k] + 0.5) / (total + 0.5 * len(real)))
    return pairs


def bounded_m(
    levels: list[Level], real: list[int], share: np.ndarray
) -> dict[int, float]:
    """The m of each estimated level from its share among the matches, held within
    the level's bounds (`m_min`, `m_max`: what is known of data entry before any
    data is seen, so EM cannot learn "same name" for "same person"); what a bound
    takes from or gives to a level is spread over the unbounded ones."""
    out: dict[int, float] = {}
    free: list[int] = []
    for k in real:
        params = levels[k].params
        lo = float(params.get("m_min", M_FLOOR))
        hi = float(params.get("m_max", 1.0))
        value = float(share[k])
        if "m_min" in params or "m_max" in params:
            out[k] = min(max(value, lo), hi)
        else:
            free.append(k)
    rest = (
        1.0
        - sum(out.values())
        - sum(
            float(share[k])
            for k, lv in enumerate(levels)
            if k not in real and not lv.is_null
        )
    )
    free_total = float(sum(share[k] for k in free))
    for k in free:
        scaled = share[k] * rest / free_total if free_total > 0 else rest / len(free)
        out[k] = max(float(scaled), M_FLOOR)
    return out


def level_patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a (pairs, comparisons) level matrix and how many pairs
    have each: a pair's weights and posterior depend on its levels alone, so EM
    over the patterns, each counted as often as it occurs, is EM over the pairs
    (hundreds of thousands of pairs fall into a few thousand patterns)."""
    if not len(levels):
        return levels, np.zeros(0, np.float64)
    bits = max(1, int(levels.max()).bit_length())
    if levels.min() < 0 or bits * levels.shape[1] > 62:
        patterns, counts = np.unique(levels, axis=0, return_counts=True)
        return patterns, counts.astype(np.float64)
    # each row as one integer (a few bits per comparison): sorting integers is
    # several times faster than sorting rows
    shifts = np.arange(levels.shape[1], dtype=np.int64) * bits
    keys = (levels.astype(np.int64) << shifts).sum(axis=1)
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    return levels[first], counts.astype(np.float64)


def _em(
    model: LinkageModel, pair_levels: np.ndarray, frozen: set[str], iterations: int,
    *, ignore: bool = True,
) -> tuple[float, int]:  # fmt: skip
    """EM over one session's pairs; returns (λ within the session, iterations).
    `frozen` comparisons keep their m; with `ignore` they are also left out of the
    posterior (every pair of a session agrees on what it was blocked on). Runs on
    the pairs' distinct level patterns, weighted by their counts."""
    lam = 0.1
    comps = model.comparisons
    levels, counts = level_patterns(pair_levels)
    pairs = float(counts.sum())
    for it in range(1, iterations + 1):
        weights = np.zeros(levels.shape)
        for c, comp in enumerate(comps):
            if not (ignore and comp.name in frozen):
                weights[:, c] = np.array([lv.weight for lv in comp.levels])[
                    levels[:, c]
                ]
        apply_guards(model, levels, weights)
        bits = weights.sum(axis=1)
        odds = lam / (1 - lam) * np.exp2(np.clip(bits, -200, 200))
        post = odds / (1 + odds)
        mean = float(post @ counts) / pairs
        change = abs(mean - lam)
        lam = min(max(mean, 1e-6), 1 - 1e-6)
        post_pairs = post * counts
        for c, comp in enumerate(comps):
            if comp.name in frozen:
                continue
            real = [
                k for k, lv in enumerate(comp.levels) if not lv.is_null and not lv.fixed
            ]
            if not real:
                continue
            weight = np.bincount(
                levels[:, c], weights=post_pairs, minlength=len(comp.levels)
            )
            total = weight[
                [k for k, lv in enumerate(comp.levels) if not lv.is_null]
            ].sum()
            if total <= 0:
                continue
            for k, new in bounded_m(comp.levels, real, weight / total).items():
                change = max(change, abs(new - (comp.levels[k].m or 0)))
                comp.levels[k].m = new
        if change < 1e-5:
            return lam, it
    return lam, iterations


def estimate_m(
    model: LinkageModel, t: Table, *, max_pairs: int, seed: int, iterations: int = 40
) -> dict[str, dict[str, float]]:
    """m of every non-fixed level, averaged over the sessions that estimated it."""
    rng = np.random.default_rng(seed)
    sums: dict[tuple[int, int], list[float]] = {}
    report: dict[str, dict[str, float]] = {}
    for key, biased in SESSIONS.items():
        pairs, _ = rule_pairs(t, key, SESSION_CAP, "", sample=(max_pairs, rng))
        if len(pairs) > max_pairs:
            pairs = pairs[np.sort(rng.choice(len(pairs), max_pairs, replace=False))]
        if not len(pairs):
            continue
        session = copy.deepcopy(model)
        levels = comparison_levels(session, t, pairs[:, 0], pairs[:, 1])
        lam, its = _em(session, levels, set(biased), iterations)
        report[key] = {
            "pairs": float(len(pairs)),
            "iterations": float(its),
            "lambda": lam,
        }
        for c, comp in enumerate(session.comparisons):
            if comp.name in biased:
                continue
            for k, level in enumerate(comp.levels):
                if not level.is_null and not level.fixed and level.m is not None:
                    sums.setdefault((c, k), []).append(level.m)
    for (c, k), values in sums.items():
        model.comparisons[c].levels[k].m = float(np.mean(values))
    return report


def estimate_prior(
    model: LinkageModel, t: Table, left: np.ndarray, right: np.ndarray, *, sample: int,
    seed: int,
) -> float:  # fmt: skip
    """λ: EM (m and u held) on a sample of the candidate pairs gives the share of
    candidates that match; scaled to all pairs of records."""
    n = len(t)
    if n < 2 or not len(left):
        return model.prior
    rng = np.random.default_rng(seed)
    idx = np.arange(len(left))
    if len(idx) > sample:
        idx = np.sort(rng.choice(len(idx), sample, replace=False))
    levels = comparison_levels(model, t, left[idx], right[idx])
    frozen = {c.name for c in model.comparisons}
    lam, _ = _em(model, levels, frozen, 60, ignore=False)
    total_pairs = n * (n - 1) / 2
    model.prior = float(min(max(lam * len(left) / total_pairs, 1e-12), 0.5))
    return lam


def train(
    model: LinkageModel, t: Table, left: np.ndarray, right: np.ndarray, *, seed: int = 1,
    u_pairs: int = 1_000_000, em_pairs: int = 300_000,
) -> TrainingReport:  # fmt: skip
    """Estimate u, then m, then the prior, in place; record how in model.training."""
    used = estimate_u(model, t, pairs=u_pairs, seed=seed)
    sessions = estimate_m(model, t, max_pairs=em_pairs, seed=seed + 1)
    lam = estimate_prior(model, t, left, right, sample=em_pairs, seed=seed + 2)
    model.training = {
        "trained": True, "seed": seed, "records": len(t), "u_pairs": used,
        "em_sessions": sessions, "candidate_pairs": int(len(left)),
        "matching_share_of_candidates": round(lam, 6),
    }  # fmt: skip
    return TrainingReport(used, sessions, lam)
