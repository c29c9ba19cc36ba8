"""Training without labels on the demo generator's people recovers sensible m and
u, and the trained model separates its planted duplicates from its twins."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from recordroom.demo.people import plan_people
from recordroom.mpi.linkage.blocking import candidate_pairs
from recordroom.mpi.linkage.defaults import default_model
from recordroom.mpi.linkage.estimate import train
from recordroom.mpi.linkage.features import TableBuilder
from recordroom.mpi.linkage.scoring import score
from recordroom.mpi.services import ssn_lookup


@pytest.fixture(scope="module")
def population():
    plans = plan_people(7, 0, 3000, date(2026, 1, 1))
    b = TableBuilder(len(plans))
    for i, p in enumerate(plans):
        b.person(i, str(i), p.birth_date, p.sex)
        for n in p.names:
            b.name(i, family=n.family, given=n.given, middle=n.middle, suffix=n.suffix,
                   current_legal=n.use == "legal" and n.period_end is None)  # fmt: skip
        if p.ssn:
            digits = p.ssn.replace("-", "")
            b.ssn(i, ssn_lookup(digits), digits[-4:])
        for a in p.addresses:
            b.address(
                i, a["line1"], a["line2"], a["postal_code"], "period_end" not in a
            )
        for t in p.telecoms:
            b.telecom(i, t["system"], t["value"])
    return plans, b.build()


def test_em_recovers_sensible_m_and_u(population):
    plans, t = population
    model = default_model()
    left, right, _ = candidate_pairs(model, t)
    train(model, t, left, right, seed=3, u_pairs=200_000, em_pairs=100_000)
    dob = model.comparison("birth_date")
    assert dob.level("exact").m > 0.7
    assert dob.level("exact").u < 0.001  # about 1 in 365 x ages
    assert model.comparison("sex").level("same").u == pytest.approx(0.5, abs=0.05)
    ssn = model.comparison("ssn")
    assert ssn.level("same number").m > 0.8 and ssn.level("same number").u < 1e-4
    given = model.comparison("given_name")
    assert given.level("nickname").weight > 3
    assert given.level("different").weight < -1
    assert 1e-7 < model.prior < 1e-3
    assert model.training["trained"] is True and model.training["seed"] == 3

    scored = score(model, t, left, right)
    person = np.array([p.person for p in plans])
    truth = person[left] == person[right]
    predicted = scored.probability >= 0.9
    true_pairs = len(plans) - len(set(person.tolist()))
    precision = (predicted & truth).sum() / predicted.sum()
    recall = (predicted & truth).sum() / true_pairs
    assert precision > 0.97 and recall > 0.97


def test_training_is_reproducible_with_its_seed(population):
    _, t = population
    models = []
    for _ in range(2):
        model = default_model()
        left, right, _ = candidate_pairs(model, t)
        train(model, t, left, right, seed=5, u_pairs=50_000, em_pairs=20_000)
        models.append(model.to_json())
    assert models[0] == models[1]
