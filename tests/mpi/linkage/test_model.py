"""The model is data: JSON round trip, refusal of unknown versions, and evidence
that adds up to the match weight."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recordroom.mpi.linkage.defaults import default_model
from recordroom.mpi.linkage.model import LinkageModel, probability
from recordroom.mpi.linkage.scoring import score

from .helpers import DOB, table


def test_json_round_trip_keeps_every_level():
    model = default_model()
    model.comparison("ssn").level("same number").m = 0.91234
    text = model.to_json()
    again = LinkageModel.from_json(text)
    assert again == model
    assert again.to_json() == text
    data = json.loads(text)
    assert data["version"] == 1
    assert data["comparisons"][0]["levels"][1]["tf"] is True


def test_unknown_version_or_field_is_refused():
    data = default_model().to_dict()
    with pytest.raises(ValueError, match="schema version 99"):
        LinkageModel.from_dict({**data, "version": 99})
    with pytest.raises(ValueError, match="unknown linkage model fields: colour"):
        LinkageModel.from_dict({**data, "colour": "blue"})


def test_evidence_sums_to_the_match_weight():
    model = default_model()
    t = table(
        {"family": "Abernathy", "given": "Margaret", "dob": DOB, "sex": "female",
         "ssn": "912-11-4321", "phones": ["312-555-0142"]},
        {"family": "Abernathy", "given": "Peggy", "dob": DOB, "sex": "female",
         "ssn": "912-11-4321", "address": ("9 Oak Street", "60601")},
        {"family": "Smith", "given": "John", "dob": DOB},
    )  # fmt: skip
    left, right = np.array([0, 0, 1]), np.array([1, 2, 2])
    scored = score(model, t, left, right)
    for k in range(3):
        evidence = scored.evidence(model, k)
        assert evidence[0]["comparison"] == "prior"
        total = sum(e["weight"] for e in evidence)
        assert total == pytest.approx(scored.match_weight[k], abs=1e-3)
        assert scored.probability[k] == pytest.approx(
            probability(scored.match_weight[k])
        )
    first = {e["comparison"]: e for e in scored.evidence(model, 0)}
    assert first["given_name"]["level"] == "nickname"
    assert first["ssn"]["weight"] > 10
    assert first["phone"]["level"] == "missing"
    assert scored.probability[0] > 0.99 > scored.probability[1]


def test_a_rare_surname_weighs_more_than_a_common_one():
    model = default_model()
    rows = [{"family": "Smith", "given": f"G{i}"} for i in range(40)]
    rows += [
        {"family": "Zielinski", "given": "A"},
        {"family": "Zielinski", "given": "B"},
    ]
    t = table(*rows)
    scored = score(model, t, np.array([0, 40]), np.array([1, 41]))
    c = [x.name for x in model.comparisons].index("family_name")
    assert scored.weights[1, c] > scored.weights[0, c] + 3
