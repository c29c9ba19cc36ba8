"""Score pairs: each comparison's level, its weight (with the term-frequency
adjustment for names), the match weight and probability, and the evidence."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .features import Table
from .levels import levels_of
from .model import LinkageModel


@dataclass
class Scored:
    """Pairs (left, right indexes into the table) with their scores. `levels` and
    `weights` have one column per model comparison, in model order."""

    left: np.ndarray
    right: np.ndarray
    levels: np.ndarray  # (pairs, comparisons) int8
    weights: np.ndarray  # (pairs, comparisons) float64, bits
    match_weight: np.ndarray  # prior + sum of weights
    probability: np.ndarray

    def evidence(self, model: LinkageModel, k: int) -> list[dict[str, Any]]:
        """What each comparison contributed to pair k (prior first); the weights
        sum to the pair's match weight."""
        out: list[dict[str, Any]] = [
            {"comparison": "prior", "level": f"λ = {model.prior:.3g}",
             "weight": round(model.prior_weight, 4)}
        ]  # fmt: skip
        for c, comp in enumerate(model.comparisons):
            level = comp.levels[int(self.levels[k, c])]
            out.append(
                {
                    "comparison": comp.name,
                    "level": level.label,
                    "weight": round(float(self.weights[k, c]), 4),
                }
            )
        return out

    def evidence_rows(
        self, model: LinkageModel, rows: np.ndarray
    ) -> list[list[dict[str, Any]]]:
        """`evidence` of each pair in `rows`, built in one pass (a scan stores
        thousands)."""
        prior = {"comparison": "prior", "level": f"λ = {model.prior:.3g}",
                 "weight": round(model.prior_weight, 4)}  # fmt: skip
        names = [comp.name for comp in model.comparisons]
        labels = [[lv.label for lv in comp.levels] for comp in model.comparisons]
        out = []
        for levels, weights in zip(
            self.levels[rows].tolist(), self.weights[rows].tolist(), strict=True
        ):
            out.append([dict(prior)] + [
                {"comparison": name, "level": label[lv], "weight": round(w, 4)}
                for name, label, lv, w in zip(names, labels, levels, weights, strict=True)
            ])  # fmt: skip
        return out


def comparison_levels(
    model: LinkageModel, t: Table, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    cols = [
        levels_of(t, left, right, [(lv.kind, lv.params) for lv in comp.levels])
        for comp in model.comparisons
    ]
    return np.stack(cols, 1) if cols else np.zeros((len(left), 0), np.int8)


def level_weights(model: LinkageModel) -> list[np.ndarray]:
    return [np.array([lv.weight for lv in c.levels]) for c in model.comparisons]


def apply_guards(model: LinkageModel, levels: np.ndarray, weights: np.ndarray) -> None:
    """Where a guard level holds (possible twins, Jr./Sr.), positive weight from
    the comparisons it discounts (what a household shares) becomes zero."""
    index = {comp.name: c for c, comp in enumerate(model.comparisons)}
    for c, comp in enumerate(model.comparisons):
        for k, level in enumerate(comp.levels):
            targets = [index[n] for n in level.params.get("discount", ()) if n in index]
            if not targets:
                continue
            hit = levels[:, c] == k
            if hit.any():
                sub = weights[np.ix_(hit, targets)]
                weights[np.ix_(hit, targets)] = np.minimum(sub, 0.0)


def _tf_adjustment(
    model: LinkageModel, t: Table, c: int, lv_index: int, left: np.ndarray
) -> np.ndarray:
    """log2(u / tf): a rarer name than average adds weight, a common one takes it
    away (Splink's term-frequency adjustment)."""
    comp = model.comparisons[c]
    level = comp.levels[lv_index]
    field = level.params.get("field", "")
    tf = t.family_tf if field == "family" else t.given_tf
    ids = t[field][left, 0]
    share = np.maximum(tf[np.maximum(ids, 0)], model.tf_floor)
    return np.log2(max(level.u or model.tf_floor, model.tf_floor) / share)


def score(model: LinkageModel, t: Table, left: np.ndarray, right: np.ndarray) -> Scored:
    levels = comparison_levels(model, t, left, right)
    weights = np.zeros(levels.shape, np.float64)
    for c, table in enumerate(level_weights(model)):
        weights[:, c] = table[levels[:, c]]
        for lv_index, level in enumerate(model.comparisons[c].levels):
            if not level.tf:
                continue
            hit = np.flatnonzero(levels[:, c] == lv_index)
            if len(hit):
                weights[hit, c] += _tf_adjustment(model, t, c, lv_index, left[hit])
    apply_guards(model, levels, weights)
    total = model.prior_weight + weights.sum(axis=1)
    prob = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    return Scored(left, right, levels, weights, total, prob)


def threshold_weight(model: LinkageModel, probability: float) -> float:
    """The match weight at which a pair reaches `probability`."""
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))
