"""Blocking: which pairs of records are compared at all. Each rule puts records
that share a key in a block and compares the records within it; a block larger than
the rule's cap is split by its fallback key (a thousand "Maria Garcia" become
blocks by birth date digits), and one still too large is skipped and reported, so
cost grows with the index, never with the square of a common name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .features import Table
from .model import LinkageModel

KeyFn = Callable[[Table], tuple[np.ndarray, np.ndarray]]
RefineFn = Callable[[Table, np.ndarray, np.ndarray], np.ndarray]
_MIX = np.uint64(0x9E3779B97F4A7C15)


def combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One int64 key from two (a hash mix; -1 in either gives -1)."""
    with np.errstate(over="ignore"):
        mixed = (a.astype(np.uint64) * _MIX) ^ (b.astype(np.uint64) + np.uint64(1))
    out = (mixed >> np.uint64(1)).astype(np.int64)
    return np.where((a < 0) | (b < 0), -1, out)


def explode(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(record, value) for every non-empty slot."""
    col = np.atleast_2d(col.T).T
    rec, slot = np.nonzero(col >= 0)
    return rec.astype(np.int64), col[rec, slot].astype(np.int64)


def _phon(t: Table, ids: np.ndarray) -> np.ndarray:
    return np.where(ids >= 0, t.name_phonetic[np.maximum(ids, 0)], -1)


def _given_initial(t: Table, rec: np.ndarray) -> np.ndarray:
    g = t["given"][rec, 0]
    return np.where(g >= 0, t.name_initial[np.maximum(g, 0)], -1)


def _family_initial(t: Table, rec: np.ndarray) -> np.ndarray:
    f = t["family"][rec, 0]
    return np.where(f >= 0, t.name_initial[np.maximum(f, 0)], -1)


def _dob_family(t: Table) -> tuple[np.ndarray, np.ndarray]:
    rec, fam = explode(t["family"])
    return rec, combine(t["dob"][rec], _phon(t, fam))


def _dob_given(t: Table) -> tuple[np.ndarray, np.ndarray]:
    g = t["given"][:, 0]
    formal = np.where(g[:, None] >= 0, t.name_formal[np.maximum(g, 0)], -1)
    rec, group = explode(formal)
    return rec, combine(t["dob"][rec], group)


def _name_pair(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """How both names sound, in either order (swapped names block together)."""
    fam = _phon(t, t["family"][:, 0])
    given = _phon(t, t["given"][:, 0])
    rec = np.arange(len(t), dtype=np.int64)
    return rec, combine(np.minimum(fam, given), np.maximum(fam, given))


def _with_initial(col: str) -> KeyFn:
    def key(t: Table) -> tuple[np.ndarray, np.ndarray]:
        rec, val = explode(t[col])
        return rec, combine(val, _given_initial(t, rec))

    return key


def _with_year(
    t: Table, rec: np.ndarray, key: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Phone numbers repeat across a household and (in the demo's 555 exchange)
    across strangers: with the birth year too, their blocks stay small."""
    return rec, combine(key, t["dob"][rec] // 10_000)


def _dob_signature(t: Table, rec: np.ndarray) -> np.ndarray:
    """The birth date's digits, sorted: the same after any transposition."""
    digits = np.sort(t["dob_digits"][rec].astype(np.int64), axis=1)
    sig = np.zeros(len(rec), np.int64)
    for i in range(digits.shape[1]):
        sig = sig * 10 + digits[:, i]
    return np.where(t["dob"][rec] >= 0, sig, -1)


def _given_formal(t: Table) -> tuple[np.ndarray, np.ndarray]:
    g = t["given"][:, 0]
    return explode(np.where(g[:, None] >= 0, t.name_formal[np.maximum(g, 0)], -1))


def _with_middle(col: str) -> KeyFn:
    """How one name sounds with the middle initial: survives the other name left
    blank and a missing or garbled birth date."""

    def key(t: Table) -> tuple[np.ndarray, np.ndarray]:
        rec = np.arange(len(t), dtype=np.int64)
        return rec, combine(_phon(t, t[col][:, 0]), t["middle_initial"])

    return key


def _street_family(t: Table) -> tuple[np.ndarray, np.ndarray]:
    rec, street = explode(t["street"])
    return rec, combine(street, _phon(t, t["family"][rec, 0]))


def _last4_initial(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """An SSN's last four with the surname's initial: a slip in the first five."""
    rec, four = explode(t["ssn_last4"])
    return rec, combine(four, _family_initial(t, rec))


KEYS: dict[str, KeyFn] = {
    # loose keys, for training sessions (EM needs non-matches among its pairs)
    "dob": lambda t: explode(t["dob"]),
    "family_sound": lambda t: explode(_phon(t, t["family"][:, 0])),
    "given_formal": _given_formal,
    "name_initials": lambda t: (
        np.arange(len(t), dtype=np.int64),
        combine(_phon(t, t["family"][:, 0]), _given_initial(t, np.arange(len(t)))),
    ),
    # prediction keys
    "ssn": lambda t: explode(t["ssn"]),
    "ident": lambda t: explode(t["ident"]),
    "email": lambda t: explode(t["email"]),
    "dob_family": _dob_family,
    "dob_given": _dob_given,
    "name_pair": _name_pair,
    "phone_initial_year": lambda t: _with_year(t, *_with_initial("phone")(t)),
    "street_initial": _with_initial("street"),
    # keys that survive one field blank or garbled (issue 12)
    "dob_alone": lambda t: explode(t["dob"]),
    "family_middle": _with_middle("family"),
    "given_middle": _with_middle("given"),
    "street_family": _street_family,
    "last4_initial": _last4_initial,
}
REFINE: dict[str, RefineFn] = {
    "dob_family_given_initial": lambda t, r, k: combine(k, _given_initial(t, r)),
    "dob_given_family_initial": lambda t, r, k: combine(k, _family_initial(t, r)),
    "name_pair_dob_digits": lambda t, r, k: combine(k, _dob_signature(t, r)),
    "phone_initial_month": lambda t, r, k: combine(k, t["dob"][r] // 100),
    "street_initial_year": lambda t, r, k: combine(k, t["dob"][r] // 10_000),
    "with_sex": lambda t, r, k: combine(k, t["sex"][r].astype(np.int64)),
    "with_given_initial": lambda t, r, k: combine(k, _given_initial(t, r)),
    "with_birth_month": lambda t, r, k: combine(k, t["dob"][r] // 100 % 100),
}


@dataclass
class BlockStats:
    rule: str
    pairs: int = 0
    blocks_split: int = 0
    blocks_skipped: int = 0
    records_skipped: int = 0
    largest_skipped: list[int] = field(default_factory=list)


def _within(
    rec: np.ndarray, key: np.ndarray, cap: int, sample: tuple[int, Any] | None = None
) -> tuple[list[np.ndarray], np.ndarray, int, np.ndarray, np.ndarray]:
    """Pairs inside blocks of 2..cap records; the positions of larger blocks' rows.
    With `sample` (max pairs, numpy Generator), a random share of the blocks."""
    keep = key >= 0
    rec, key = rec[keep], key[keep]
    if not len(key):
        return [], np.zeros(0, np.int64), 0, rec, key
    order = np.lexsort((rec, key))
    rec, key = rec[order], key[order]
    fresh = np.r_[True, (key[1:] != key[:-1]) | (rec[1:] != rec[:-1])]
    rec, key = rec[fresh], key[fresh]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    sizes = np.diff(np.r_[starts, len(key)])
    out: list[np.ndarray] = []
    chosen = (sizes >= 2) & (sizes <= cap)
    if sample is not None:
        limit, rng = sample
        total = float((sizes[chosen] * (sizes[chosen] - 1) // 2).sum())
        if total > limit:
            chosen &= rng.random(len(sizes)) < limit / total
    for size in np.unique(sizes[chosen]):
        st = starts[(sizes == size) & chosen]
        i, j = np.triu_indices(int(size), 1)
        out.append(
            np.stack([rec[st[:, None] + i].ravel(), rec[st[:, None] + j].ravel()], 1)
        )
    big = sizes > cap
    rows = np.repeat(big, sizes)
    return out, np.flatnonzero(rows), int(big.sum()), rec, key


def rule_pairs(
    t: Table, rule_key: str, cap: int, fallback: str,
    sample: tuple[int, Any] | None = None,
) -> tuple[np.ndarray, BlockStats]:  # fmt: skip
    """Pairs one rule blocks together (left < right); with `sample`, about that
    many from randomly chosen blocks (training)."""
    stats = BlockStats(rule_key)
    rec, key = KEYS[rule_key](t)
    found, big_rows, stats.blocks_split, rec, key = _within(rec, key, cap, sample)
    if len(big_rows):
        if fallback:
            sub_rec = rec[big_rows]
            finer = REFINE[fallback](t, sub_rec, key[big_rows])
            more, still, skipped, _, k2 = _within(sub_rec, finer, cap)
            found += more
            stats.blocks_skipped = skipped
            stats.records_skipped = len(still)
            if len(still):
                _, counts = np.unique(k2[still], return_counts=True)
                stats.largest_skipped = sorted(counts.tolist(), reverse=True)[:5]
        else:
            stats.blocks_skipped, stats.records_skipped = (
                stats.blocks_split,
                len(big_rows),
            )
            stats.blocks_split = 0
    pairs = np.concatenate(found) if found else np.zeros((0, 2), np.int64)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    stats.pairs = len(pairs)
    return pairs, stats


def candidate_pairs(
    model: LinkageModel, t: Table
) -> tuple[np.ndarray, np.ndarray, list[BlockStats]]:
    """Every pair some rule blocks together, once, in a fixed order (left < right)."""
    n = max(len(t), 1)
    codes: list[np.ndarray] = []
    stats = []
    for rule in model.blocking:
        pairs, st = rule_pairs(t, rule.key, rule.cap, rule.fallback)
        codes.append(np.unique(pairs[:, 0] * n + pairs[:, 1]))
        stats.append(st)
    every = np.unique(np.concatenate(codes)) if codes else np.zeros(0, np.int64)
    return (every // n).astype(np.int64), (every % n).astype(np.int64), stats
