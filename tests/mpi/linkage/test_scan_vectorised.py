"""The scan's training fast paths give what the plain ones gave (issue 12: the scan
faster than Splink, the same results), on demo records read from the database: EM
over distinct level patterns against EM over every pair, and u without the
guards' levels against u with them."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import numpy as np
import pytest

from recordroom.demo.people import plan_people
from recordroom.demo.rows import write_batch
from recordroom.demo.setup import ensure_scenery
from recordroom.kernel.actor import Actor
from recordroom.mpi.linkage import estimate, loading
from recordroom.mpi.linkage.blocking import candidate_pairs
from recordroom.mpi.linkage.defaults import default_model
from recordroom.mpi.linkage.scoring import apply_guards, comparison_levels
from recordroom.mpi.models import Patient

ACTOR = Actor(channel="cli", name="cli:tester")


@pytest.fixture
def index(db):
    plans = plan_people(17, 0, 250, date(2026, 1, 1))
    write_batch(actor=ACTOR, plans=plans, stored=[], scenery=ensure_scenery())
    return Patient.objects.filter(merged_into__isnull=True).count()


def _em_pair_by_pair(model: Any, levels: np.ndarray, frozen: set[str],
                     iterations: int) -> float:  # fmt: skip
    """EM as it ran before: every pair its own row."""
    lam, comps = 0.1, model.comparisons
    for _ in range(iterations):
        weights = np.zeros(levels.shape)
        for c, comp in enumerate(comps):
            if comp.name not in frozen:
                weights[:, c] = np.array([lv.weight for lv in comp.levels])[
                    levels[:, c]
                ]
        apply_guards(model, levels, weights)
        odds = lam / (1 - lam) * np.exp2(np.clip(weights.sum(axis=1), -200, 200))
        post = odds / (1 + odds)
        change = abs(float(post.mean()) - lam)
        lam = min(max(float(post.mean()), 1e-6), 1 - 1e-6)
        for c, comp in enumerate(comps):
            if comp.name in frozen:
                continue
            real = [k for k, lv in enumerate(comp.levels)
                    if not lv.is_null and not lv.fixed]  # fmt: skip
            if not real:
                continue
            weight = np.bincount(levels[:, c], weights=post, minlength=len(comp.levels))
            total = weight[
                [k for k, lv in enumerate(comp.levels) if not lv.is_null]
            ].sum()
            if total <= 0:
                continue
            for k, new in estimate.bounded_m(comp.levels, real, weight / total).items():
                change = max(change, abs(new - (comp.levels[k].m or 0)))
                comp.levels[k].m = new
        if change < 1e-5:
            break
    return lam


def test_em_over_level_patterns_is_em_over_every_pair(index):
    t = loading.load_index()
    model = default_model()
    estimate.estimate_u(model, t, pairs=50_000, seed=1)
    left, right, _ = candidate_pairs(model, t)
    assert len(left) > 20
    # the candidates and random pairs: matches and non-matches for EM to tell apart
    rng = np.random.default_rng(4)
    left = np.concatenate([left, rng.integers(0, len(t), 3000)])
    right = np.concatenate([right, rng.integers(0, len(t), 3000)])
    levels = comparison_levels(model, t, left, right)
    patterns, counts = estimate.level_patterns(levels)
    assert len(patterns) < len(left) and counts.sum() == len(left)
    by_pattern, by_pair = copy.deepcopy(model), copy.deepcopy(model)
    lam, _ = estimate._em(by_pattern, levels, {"birth_date"}, 40)
    want = _em_pair_by_pair(by_pair, levels, {"birth_date"}, 40)
    assert lam == pytest.approx(want, rel=1e-12, abs=1e-15)
    for a, b in zip(by_pattern.comparisons, by_pair.comparisons, strict=True):
        for la, lb in zip(a.levels, b.levels, strict=True):
            assert (la.m is None) == (lb.m is None)
            if la.m is not None:
                assert la.m == pytest.approx(lb.m, rel=1e-9, abs=1e-15), la.label


def test_u_without_the_guards_levels_is_u_with_them(index):
    """The guards' levels are all fixed: leaving them out of u's random pairs
    changes no u (the same seed gives the same pairs)."""
    t = loading.load_index()
    model = default_model()
    estimate.estimate_u(model, t, pairs=50_000, seed=5)
    n, rng = len(t), np.random.default_rng(5)
    counts = [np.zeros(len(c.levels), np.int64) for c in model.comparisons]
    for size in (50_000,):
        left = rng.integers(0, n, size)
        right = rng.integers(0, n - 1, size)
        right = right + (right >= left)
        levels = comparison_levels(model, t, left, right)
        for c, comp in enumerate(model.comparisons):
            counts[c] += np.bincount(levels[:, c], minlength=len(comp.levels))
    checked = 0
    for c, comp in enumerate(model.comparisons):
        real = [k for k, lv in enumerate(comp.levels) if not lv.is_null]
        total = counts[c][real].sum()
        for k in real:
            if not comp.levels[k].fixed:
                want = float((counts[c][k] + 0.5) / (total + 0.5 * len(real)))
                assert comp.levels[k].u == want, comp.levels[k].label
                checked += 1
    assert checked > 20
