"""The scan's fast paths give the results of the plain ones (issue 12: faster, the
same pairs and probabilities): what the scan stores is what the engine scores, and
the level tests' memos answer as the computation they save."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from recordroom.demo.people import plan_people
from recordroom.demo.rows import write_batch
from recordroom.demo.setup import ensure_scenery
from recordroom.kernel.actor import Actor
from recordroom.mpi.linkage import levels
from recordroom.mpi.linkage.blocking import candidate_pairs
from recordroom.mpi.linkage.clusters import clusters
from recordroom.mpi.linkage.loading import load_index
from recordroom.mpi.linkage.model import LinkageModel
from recordroom.mpi.linkage.scoring import score
from recordroom.mpi.linkage.services import scan_index

ACTOR = Actor(channel="cli", name="cli:tester")


@pytest.fixture
def population(db):
    plans = plan_people(11, 0, 300, date(2026, 1, 1))
    return write_batch(actor=ACTOR, plans=plans, stored=[], scenery=ensure_scenery())


def test_the_scan_stores_exactly_what_the_engine_scores(population):
    run = scan_index(actor=ACTOR, chunk_size=97, u_pairs=50_000)
    model = LinkageModel.from_dict(run.model)
    table = load_index()
    left, right, _ = candidate_pairs(model, table)
    scored = score(model, table, left, right)
    expected = {}
    for j in np.flatnonzero(scored.probability >= run.min_probability):
        a, b = sorted((table.keys[int(left[j])], table.keys[int(right[j])]))
        expected[(a, b)] = (
            float(scored.probability[j]),
            round(float(scored.match_weight[j]), 4),
            scored.evidence(model, int(j)),
        )
    order = sorted(expected, key=lambda k: (-expected[k][0], k))
    groups = clusters(order)
    stored = {
        (str(a), str(b)): (p, w, ev, c)
        for a, b, p, w, ev, c in run.pairs.values_list(
            "left_id", "right_id", "probability", "match_weight", "evidence", "cluster"
        )
    }
    assert len(stored) == run.stored_pairs == len(expected) > 0
    for key, (prob, weight, evidence) in expected.items():
        assert stored[key] == (prob, weight, evidence, groups[key[0]])
    assert run.clusters == len(set(groups.values()))


def _names_table(names: list[str]):
    from tests.mpi.linkage.helpers import table

    return table(*({"family": n, "given": n[::-1]} for n in names))


def test_jaro_winkler_memo_gives_the_similarity_it_saves(monkeypatch):
    names = ["smith", "smyth", "schmidt", "garcia", "garza", "nguyen", "ngyuen",
             "o'brien", "obrien", "lee", "li", "leigh"]  # fmt: skip
    t = _names_table(names)
    ids = t["family"][:, 0]
    rng = np.random.default_rng(3)
    monkeypatch.setattr(levels, "MEMO_PAIRS", 40)  # overflow: starts again
    for _ in range(6):  # overlapping batches, some ids empty (-1)
        a = np.where(rng.random(50) < 0.1, -1, rng.choice(ids, 50))
        b = np.where(rng.random(50) < 0.1, -1, rng.choice(ids, 50))
        got = levels.jaro_winkler(t, a, b)
        ok = (a >= 0) & (b >= 0)
        want = np.zeros(len(a))  # the computation before the memo: every pair
        want[ok] = cpdist([t.names[x] for x in a[ok]], [t.names[y] for y in b[ok]],
                          scorer=JaroWinkler.normalized_similarity)  # fmt: skip
        assert got.tolist() == want.tolist()
    assert len(t.memo["jaro_winkler"][0]) <= 40


def test_missing_per_row_is_missing_per_pair():
    t = _names_table(["smith", "jones", "lee"])
    L, R = np.array([0, 1, 2, 0]), np.array([1, 2, 0, 2])
    for field in ("family", "ssn", "dob", "phone"):
        col = t[field]
        plain = levels.missing(col[L]) | levels.missing(col[R])
        gone = levels.row_missing(t, field)
        assert (gone[L] | gone[R]).tolist() == plain.tolist()
