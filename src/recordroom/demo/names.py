"""Name data and the registration errors planted in duplicate records.

Every function takes its `random.Random`, so output depends only on that state.
"""

from __future__ import annotations

import random
import unicodedata

from recordroom.mpi.linkage.nicknames import NICKNAMES as _ENGINE_NICKNAMES

# Formal given name -> nicknames (the engine's table: planted nicknames are ones it
# knows).
NICKNAMES = _ENGINE_NICKNAMES

HISPANIC_GIVEN_F = (
    "María", "Guadalupe", "Lucía", "Sofía", "Ximena", "Inés", "Mónica", "Verónica",
    "Rocío", "Ana", "Carmen", "Beatriz", "Dolores", "Isabel", "Marisol", "Valentina",
)  # fmt: skip
HISPANIC_GIVEN_M = (
    "José", "Jesús", "Andrés", "Martín", "Raúl", "Julián", "Sebastián", "Ramón",
    "Héctor", "Joaquín", "Óscar", "Francisco", "Luis", "Miguel", "Alejandro", "Iván",
)  # fmt: skip
HISPANIC_FAMILY = (
    "Núñez", "Muñoz", "Peña", "Ibáñez", "García", "Hernández", "López", "Martínez",
    "Pérez", "Sánchez", "Ramírez", "Gómez", "Díaz", "Rodríguez", "Gutiérrez", "Álvarez",
    "Jiménez", "Vásquez", "Castañeda", "Ordóñez", "Cruz", "Reyes", "Morales", "Ortiz",
)  # fmt: skip

ASIAN_GIVEN_F = (
    "Mei", "Ling", "Yuki", "Hana", "Ji-woo", "Min-ji", "Priya", "Ananya", "Thao", "Linh",
    "Aiko", "Xiu", "Deepa", "Mai", "Seo-yeon",
)  # fmt: skip
ASIAN_GIVEN_M = (
    "Wei", "Hiroshi", "Kenji", "Min-jun", "Ji-ho", "Arjun", "Rahul", "Minh", "Duc",
    "Jun", "Haruto", "Sanjay", "Bao", "Tuan", "Hyun-woo",
)  # fmt: skip
ASIAN_FAMILY = (
    "Nguyen", "Tran", "Le", "Pham", "Kim", "Park", "Lee", "Choi", "Chen", "Wang", "Li",
    "Zhang", "Liu", "Huang", "Patel", "Shah", "Singh", "Gupta", "Nakamura", "Tanaka",
    "Yamamoto", "Sato", "Santos", "Reyes", "Cruz",
)  # fmt: skip

ACCENTED_GIVEN_F = ("Zoë", "Chloé", "Renée", "Anaïs", "Siobhán", "Noémie", "Zoé", "Léa")
ACCENTED_GIVEN_M = (
    "Noël",
    "François",
    "Søren",
    "Björn",
    "René",
    "Jürgen",
    "Seán",
    "Éric",
)
ACCENTED_FAMILY = (
    "O'Brien", "Müller", "Brontë", "Dubois-Lefèvre", "Ó Súilleabháin", "Østergaard",
    "D'Angelo", "McAllister", "Schäfer", "Nowak", "Kowalczyk", "Van der Berg",
)  # fmt: skip

_KEYBOARD_NEIGHBOURS = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh",
    "h": "gj", "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip",
    "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe",
    "x": "zc", "y": "tu", "z": "x",
}  # fmt: skip


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def typo(rng: random.Random, name: str) -> str:
    """One keying error of the kind registration clerks make; never returns `name`."""
    plain = strip_accents(name)
    if plain != name and rng.random() < 0.4:
        return plain  # the accent is dropped
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 3:
        return name + name[-1].lower()
    for _ in range(8):
        i = rng.choice(letters[1:])
        kind = rng.choice(("swap", "neighbour", "drop", "double"))
        if kind == "swap" and i + 1 < len(name) and name[i + 1].isalpha():
            out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        elif kind == "neighbour" and name[i].lower() in _KEYBOARD_NEIGHBOURS:
            sub = rng.choice(_KEYBOARD_NEIGHBOURS[name[i].lower()])
            out = name[:i] + (sub.upper() if name[i].isupper() else sub) + name[i + 1 :]
        elif kind == "drop":
            out = name[:i] + name[i + 1 :]
        else:
            out = name[: i + 1] + name[i] + name[i + 1 :]
        if out != name:
            return out
    return name + "e"


def nickname(rng: random.Random, given: str) -> str | None:
    options = NICKNAMES.get(given)
    return rng.choice(options) if options else None
