"""The linkage model as data: comparisons made of levels, each level with its
probabilities among matches (m) and non-matches (u), a prior and blocking rules.
It round-trips to JSON and is stored with every run, so a decision can be explained
and reproduced from the run alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SCHEMA_VERSION = 1
_FLOOR = 1e-6


@dataclass
class Level:
    """One outcome of a comparison. `kind` names the test (levels.PREDICATES);
    `params` its settings (a Jaro-Winkler threshold). A `null` level is missing
    data: it has no m or u and weighs nothing. `fixed` levels are set by the
    analyst and left alone by estimation; `tf` levels adjust for how common the
    agreeing value is."""

    label: str
    kind: str
    m: float | None = None
    u: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    fixed: bool = False
    tf: bool = False

    @property
    def is_null(self) -> bool:
        return self.kind == "null"

    @property
    def weight(self) -> float:
        """log2(m/u): the evidence this level adds, in bits."""
        if self.is_null or self.m is None or self.u is None:
            return 0.0
        return math.log2(max(self.m, _FLOOR) / max(self.u, _FLOOR))


@dataclass
class Comparison:
    name: str
    description: str
    levels: list[Level]

    def level(self, label: str) -> Level:
        for level in self.levels:
            if level.label == label:
                return level
        raise KeyError(f"comparison {self.name} has no level {label!r}")


@dataclass
class BlockingRule:
    """Records sharing `key` are compared. A block larger than `cap` is split by
    `fallback` (a finer key); one still larger is skipped and reported."""

    name: str
    key: str
    cap: int = 200
    fallback: str = ""


@dataclass
class LinkageModel:
    name: str
    prior: float  # λ: probability that two records drawn at random are one person
    comparisons: list[Comparison]
    blocking: list[BlockingRule]
    tf_floor: float = 1e-5  # the smallest term frequency used (very rare names)
    version: int = SCHEMA_VERSION
    training: dict[str, Any] = field(default_factory=dict)

    def comparison(self, name: str) -> Comparison:
        for comp in self.comparisons:
            if comp.name == name:
                return comp
        raise KeyError(f"the model has no comparison {name!r}")

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkageModel:
        version = data.get("version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"linkage model schema version {version} is not supported "
                f"(this engine reads version {SCHEMA_VERSION})"
            )
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"unknown linkage model fields: {', '.join(sorted(unknown))}"
            )
        comparisons = [
            Comparison(
                name=c["name"],
                description=c.get("description", ""),
                levels=[Level(**lv) for lv in c["levels"]],
            )
            for c in data["comparisons"]
        ]
        return cls(
            **{k: v for k, v in data.items() if k not in ("comparisons", "blocking")},
            comparisons=comparisons,
            blocking=[BlockingRule(**b) for b in data["blocking"]],
        )

    @classmethod
    def from_json(cls, text: str) -> LinkageModel:
        return cls.from_dict(json.loads(text))


def probability(match_weight: float) -> float:
    """Match weight (bits, prior included) -> probability the pair is one person."""
    if match_weight > 60:
        return 1.0
    return 1.0 / (1.0 + 2.0 ** (-match_weight))
