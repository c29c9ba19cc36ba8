"""Synthetic names for the benchmark population, with a realistic frequency.

Surnames: the US census top 1,000 with their weights (Faker's en_US list: Smith ~1% of
patients), common Hispanic and Asian surnames (accented: García, Nguyễn), and a long
tail of ~200,000 made-up surnames seen once or twice each. Deterministic by seed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from faker.providers.person.en_US import Provider as EnUS
from faker.providers.person.es_MX import Provider as EsMX

HISPANIC_COMMON = (
    ("García", 8), ("Hernández", 8), ("Martínez", 7), ("López", 7), ("González", 7),
    ("Rodríguez", 7), ("Pérez", 5), ("Sánchez", 5), ("Ramírez", 5), ("Flores", 4),
    ("Gómez", 4), ("Díaz", 4), ("Cruz", 3), ("Reyes", 3), ("Morales", 3),
    ("Gutiérrez", 3), ("Ortiz", 3), ("Jiménez", 3), ("Núñez", 2), ("Muñoz", 2),
    ("Álvarez", 2), ("Castañeda", 1), ("Ordóñez", 1), ("Peña", 2), ("Ibáñez", 1),
)  # fmt: skip
ASIAN = (
    ("Nguyễn", 15), ("Trần", 9), ("Lê", 7), ("Phạm", 6), ("Kim", 10), ("Lee", 9),
    ("Park", 6), ("Choi", 3), ("Chen", 8), ("Wang", 7), ("Li", 6), ("Zhang", 5),
    ("Liu", 5), ("Huang", 3), ("Patel", 12), ("Shah", 4), ("Singh", 7), ("Gupta", 3),
    ("Nakamura", 1), ("Tanaka", 1), ("Yamamoto", 1), ("Sato", 1), ("Santos", 3),
    ("Đặng", 2), ("Võ", 2), ("Huỳnh", 2),
)  # fmt: skip
GIVEN_OTHER_F = (
    "María", "Guadalupe", "Lucía", "Sofía", "Ximena", "Inés", "Mónica", "Verónica",
    "Zoë", "Chloé", "Renée", "Anaïs", "Siobhán", "Léa", "Mei", "Ling", "Yuki", "Hana",
    "Ji-woo", "Priya", "Ananya", "Thảo", "Linh", "Aiko", "Deepa", "Mai",
)  # fmt: skip
GIVEN_OTHER_M = (
    "José", "Jesús", "Andrés", "Martín", "Raúl", "Julián", "Sebastián", "Ramón",
    "Héctor", "Joaquín", "Óscar", "Noël", "François", "Søren", "Björn", "René",
    "Seán", "Wei", "Hiroshi", "Kenji", "Min-jun", "Arjun", "Rahul", "Minh", "Đức",
)  # fmt: skip

_ONSETS = (
    "B", "Br", "C", "Ch", "D", "Dr", "F", "Fl", "G", "Gr", "H", "J", "K", "Kr", "L",
    "M", "N", "P", "Pr", "R", "S", "Sh", "Sk", "St", "T", "Tr", "V", "W", "Z", "Al",
    "El", "Or", "Ul", "Ev",
)  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou", "y", "ie")
_MIDDLES = ("l", "n", "r", "rr", "nd", "lt", "st", "v", "m", "k", "ch", "th", "d", "s",
            "b", "g", "lm", "rk")  # fmt: skip
_ENDINGS = (
    "son", "sen", "ski", "sky", "ez", "ov", "ova", "berg", "stein", "ton", "ley",
    "field", "wood", "man", "er", "el", "ini", "elli", "ard", "ow", "ic", "ak", "sson",
    "as", "is", "o", "a", "ington", "ford", "ham", "ek", "ich", "escu", "opoulos",
)  # fmt: skip


@dataclass(frozen=True)
class Pool:
    values: Sequence[str]
    cum_weights: Sequence[float]

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


def _pool(pairs: Sequence[tuple[str, float]]) -> Pool:
    values = [v for v, _ in pairs]
    cum = list(itertools.accumulate(w for _, w in pairs))
    return Pool(values, cum)


class NameSource:
    """Draws surnames and given names; the same seed gives the same sequence."""

    def __init__(self, seed: int, tail_size: int = 200_000) -> None:
        rng = random.Random(seed ^ 0x5EED)
        self.us = _pool(list(EnUS.last_names.items()))
        common = {n for n, _ in HISPANIC_COMMON}
        hispanic = list(HISPANIC_COMMON) + [
            (n, 0.3) for n in EsMX.last_names if n not in common
        ]
        self.hispanic = _pool(hispanic)
        self.asian = _pool(ASIAN)
        self.tail = self._tail(rng, tail_size)
        female = list(EnUS.first_names_female.items())
        male = list(EnUS.first_names_male.items())
        self.given_f = _pool(female)
        self.given_m = _pool(male)
        self.given_es_f = list(EsMX.first_names_female) + list(GIVEN_OTHER_F)
        self.given_es_m = list(EsMX.first_names_male) + list(GIVEN_OTHER_M)

    @staticmethod
    def _tail(rng: random.Random, size: int) -> list[str]:
        seen: set[str] = set()
        while len(seen) < size:
            name = (
                rng.choice(_ONSETS)
                + rng.choice(_VOWELS)
                + rng.choice(_MIDDLES)
                + (rng.choice(_VOWELS) if rng.random() < 0.4 else "")
                + rng.choice(_ENDINGS)
            )
            roll = rng.random()
            if roll < 0.02:
                name = "O'" + name
            elif roll < 0.03:
                name = "Mc" + name
            seen.add(name)
        return sorted(seen)

    def family(self, rng: random.Random) -> str:
        roll = rng.random()
        if roll < 0.45:
            name = self.us.draw(rng)
        elif roll < 0.60:
            name = self.hispanic.draw(rng)
        elif roll < 0.64:
            name = self.asian.draw(rng)
        else:
            name = rng.choice(self.tail)
        if rng.random() < 0.02:  # double-barrelled
            name = f"{name}-{self.us.draw(rng)}"
        return name

    def given(self, rng: random.Random, female: bool) -> str:
        if rng.random() < 0.82:
            return (self.given_f if female else self.given_m).draw(rng)
        return rng.choice(self.given_es_f if female else self.given_es_m)
