"""Blocking: cost stays bounded on a very common name, and the fallback still
finds the duplicate inside it."""

from __future__ import annotations

from datetime import date, timedelta

from recordroom.mpi.linkage.blocking import candidate_pairs, rule_pairs
from recordroom.mpi.linkage.defaults import default_model

from .helpers import table


def _marias(n: int) -> list[dict]:
    start = date(1950, 1, 1)
    return [
        {"family": "Garcia", "given": "Maria", "dob": start + timedelta(days=37 * i)}
        for i in range(n)
    ]


def test_a_thousand_maria_garcias_do_not_blow_up():
    rows = _marias(1000)
    # the one real duplicate: day and month keyed the wrong way round
    born = rows[500]["dob"]
    rows.append({"family": "García", "given": "María",
                 "dob": date(born.year, born.day, born.month) if born.day <= 12
                 else born})  # fmt: skip
    t = table(*rows)
    pairs, stats = rule_pairs(t, "name_pair", cap=60, fallback="name_pair_dob_digits")
    assert stats.blocks_split == 1  # the one block of 1,001 was split ...
    assert len(pairs) < 5_000  # ... instead of 500,500 pairs
    left, right, all_stats = candidate_pairs(default_model(), t)
    assert len(left) < 20_000
    found = set(zip(left.tolist(), right.tolist(), strict=True))
    assert (500, 1000) in found
    skipped = {s.rule: s.blocks_skipped for s in all_stats}
    assert set(skipped.values()) == {0}


def test_a_block_too_big_even_after_the_fallback_is_skipped_and_reported():
    t = table(*({"family": "Garcia", "given": "Maria", "dob": date(1960, 5, 5)}
                for _ in range(150)))  # fmt: skip
    pairs, stats = rule_pairs(t, "name_pair", cap=60, fallback="name_pair_dob_digits")
    assert len(pairs) == 0
    assert stats.blocks_skipped == 1
    assert stats.records_skipped == 150
    assert stats.largest_skipped == [150]
