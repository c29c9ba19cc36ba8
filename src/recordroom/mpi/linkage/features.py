"""Records as columns: every value a comparison looks at, encoded once per record
into numpy arrays (dictionary-coded strings, fixed slots for repeated values), so
comparisons over millions of pairs run as array operations.

A `TableBuilder` is fed patient parts one by one (from the database in bulk, or from
an incoming registration); `build()` returns the `Table`. Placeholder values are
dropped on the way in, so they can only ever count as missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from . import normalize as nz
from . import placeholders as ph
from .nicknames import formal_names

SLOTS = {
    "family": 4, "given": 2, "ssn": 2, "ssn_last4": 2, "ident": 3, "ident_system": 3,
    "phone": 3, "email": 2, "address": 3, "street": 3, "zip": 3,
    "address_sound": 3, "street_name": 3,
}  # fmt: skip
_NAMES = ("family", "given")  # name ids (int32); the others are int64 codes
FORMAL_SLOTS = 4  # formal names a given name may stand for ('alex': three, itself)
_SEX = {"female": 0, "male": 1, "other": 2}


class Vocab:
    """Strings to dense integer ids (0, 1, 2 ...) in order of first sight."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.strings: list[str] = []

    def id(self, text: str) -> int:
        found = self.ids.get(text)
        if found is None:
            found = self.ids[text] = len(self.strings)
            self.strings.append(text)
        return found


@dataclass(frozen=True)
class Table:
    """Encoded records; -1 marks an empty slot or a missing/placeholder value.
    Slot 0 of a repeated field holds the current (legal) value where there is one."""

    keys: Sequence[str]  # patient ids (or any labels) of the rows
    cols: dict[str, np.ndarray]  # field -> (n,) or (n, slots)
    names: list[str]  # name id -> name key
    name_phonetic: np.ndarray  # name id -> phonetic code id
    name_formal: (
        np.ndarray
    )  # (names, FORMAL_SLOTS) name id -> formal-name (nickname group) ids
    name_initial: np.ndarray  # name id -> code of its first letter
    family_tf: np.ndarray  # name id -> share of records with it as legal surname
    given_tf: np.ndarray  # name id -> share of records with it as legal given name
    # What the level tests derive from the columns and would otherwise compute again
    # for every batch of pairs (levels.py): per-row "missing", name-pair similarity.
    memo: dict[Any, Any] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, field: str) -> np.ndarray:
        return self.cols[field]


def code(text: str) -> int:
    """A stable 63-bit code for a value compared only for equality (identifiers,
    addresses, e-mail): no string is kept, and the same text always gives the same
    code (hashlib, not Python's salted hash)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF


class _Slotted:
    """(record, value, priority) rows; slotted on build (priority 0 first)."""

    def __init__(self) -> None:
        self.rec, self.val, self.prio = array("i"), array("q"), array("b")

    def add(self, rec: int, val: int, prio: int = 1) -> None:
        self.rec.append(rec)
        self.val.append(val)
        self.prio.append(prio)

    def dump(self) -> tuple[bytes, bytes, bytes]:
        return self.rec.tobytes(), self.val.tobytes(), self.prio.tobytes()

    def load(self, rec: bytes, val: bytes, prio: bytes) -> None:
        self.rec.frombytes(rec)
        self.val.frombytes(val)
        self.prio.frombytes(prio)

    def slots(self, n: int, width: int) -> np.ndarray:
        rec = np.frombuffer(self.rec, np.int32).astype(np.int64)
        val = np.frombuffer(self.val, np.int64)
        prio = np.frombuffer(self.prio, np.int8)
        out = np.full((n, width), -1, np.int64)
        if not len(rec):
            return out
        order = np.lexsort((np.arange(len(rec)), prio, rec))
        rec, val = rec[order], val[order]
        del order, prio
        # first occurrence of each (record, value), in (record, priority) order
        dup = np.zeros(len(rec), bool)
        by = np.lexsort((val, rec))
        same = (rec[by][1:] == rec[by][:-1]) & (val[by][1:] == val[by][:-1])
        dup[by[1:][same]] = True
        rec, val = rec[~dup], val[~dup]
        idx = np.arange(len(rec))
        starts = np.maximum.accumulate(
            np.where(np.r_[True, rec[1:] != rec[:-1]], idx, 0)
        )
        rank = idx - starts
        ok = rank < width
        out[rec[ok], rank[ok]] = val[ok]
        return out


class TableBuilder:
    def __init__(self, size: int) -> None:
        self.n = size
        self.keys: Sequence[str] = [""] * size
        self.names = Vocab()
        self.codes = Vocab()  # phonetic codes
        self._keys: dict[str, str] = {}
        self.scalars: dict[str, np.ndarray] = {
            "dob": np.full(size, -1, np.int32),
            "sex": np.full(size, -1, np.int8),
            "middle_initial": np.full(size, -1, np.int32),
            "suffix": np.zeros(size, np.int8),
        }
        self.slotted = {field: _Slotted() for field in SLOTS}
        self._placeholder_ssns = ph.placeholder_ssn_lookups()

    def _key(self, text: str) -> str:
        found = self._keys.get(text)
        if found is None:
            found = self._keys[text] = nz.name_key(text)
        return found

    def person(self, i: int, key: str, birth_date: date | None, sex: str) -> None:
        if key:
            self.keys[i] = key  # type: ignore[index]
        if not ph.is_placeholder_date(birth_date):
            self.scalars["dob"][i] = nz.date_int(birth_date)
        self.scalars["sex"][i] = _SEX.get(sex, -1)

    def name(
        self, i: int, *, family: str, given: str, middle: str = "", suffix: str = "",
        current_legal: bool = True,
    ) -> None:  # fmt: skip
        fam, giv = self._key(family), self._key(given)
        if ph.is_placeholder_pair(fam, giv):
            return
        prio = 0 if current_legal else 1
        if not ph.is_placeholder_name(fam):
            self.slotted["family"].add(i, self.names.id(fam), prio)
            for part in nz.name_parts(fam):  # hyphenated and double surnames
                self.slotted["family"].add(i, self.names.id(part), 2)
        if not ph.is_placeholder_name(giv):
            self.slotted["given"].add(i, self.names.id(giv), prio)
            for part in nz.name_parts(giv)[:1]:  # 'mary ann' is also 'mary'
                self.slotted["given"].add(i, self.names.id(part), 2)
        if current_legal:
            mid = self._key(middle) if middle else ""
            # one letter is an initial, not a placeholder ('R', not 'XXX')
            if mid and (len(mid) == 1 or not ph.is_placeholder_name(mid)):
                self.scalars["middle_initial"][i] = ord(mid[0])
            self.scalars["suffix"][i] = nz.suffix_class(suffix)

    def ssn(self, i: int, lookup: str, last4: str, current: bool = True) -> None:
        if lookup in self._placeholder_ssns or last4 == "0000":
            return
        prio = 0 if current else 1
        self.slotted["ssn"].add(i, code(lookup), prio)
        if last4.isdigit():
            self.slotted["ssn_last4"].add(i, int(last4), prio)

    def identifier(self, i: int, system: str, lookup: str) -> None:
        self.slotted["ident"].add(i, code(f"{system}|{lookup}"))
        self.slotted["ident_system"].add(i, code(system))

    def telecom(self, i: int, system: str, value: str, current: bool = True) -> None:
        prio = 0 if current else 1
        if system == "email":
            key = nz.email_key(value)
            if not ph.is_placeholder_email(key):
                self.slotted["email"].add(i, code(key), prio)
            return
        digits = nz.phone_digits(value)
        if not ph.is_placeholder_phone(digits):
            self.slotted["phone"].add(i, int(digits), prio)

    def address(
        self, i: int, line1: str, line2: str, postal_code: str, current: bool = True
    ) -> None:
        street, zip_code = nz.street_key(line1), nz.zip5(postal_code)
        if ph.is_placeholder_address(street):
            return
        prio = 0 if current else 1
        unit = nz.street_key(line2) if line2 else ""
        self.slotted["address"].add(i, code(f"{street}|{unit}|{zip_code}"), prio)
        self.slotted["street"].add(i, code(f"{street}|{zip_code}"), prio)
        # a slip in the street's name or its number: the number with how the
        # street sounds, and the street without its number (same ZIP code)
        number, _, name = street.partition(" ")
        if not number.isdigit():
            number, name = "", street
        self.slotted["address_sound"].add(
            i, code(f"{number}|{nz.phonetic(name)}|{zip_code}"), prio
        )
        if number:
            self.slotted["street_name"].add(i, code(f"{name}|{zip_code}"), prio)
        if zip_code.isdigit():
            self.slotted["zip"].add(i, int(zip_code), prio)

    def build(self, tf: dict[str, dict[str, float]] | None = None) -> Table:
        """Freeze. Term frequencies come from this table unless `tf` gives them
        (name key -> share), as for one incoming record scored against the index."""
        cols: dict[str, np.ndarray] = dict(self.scalars)
        for field, width in SLOTS.items():
            values = self.slotted[field].slots(self.n, width)
            cols[field] = values.astype(np.int32) if field in _NAMES else values
            self.slotted[field] = _Slotted()  # free the rows as we go
        cols["dob_digits"] = _dob_digits(cols["dob"])
        base = len(self.names.strings)
        formal = np.full((base, FORMAL_SLOTS), -1, np.int32)
        for nid in range(base):
            groups = formal_names(self.names.strings[nid])[:FORMAL_SLOTS]
            for k, group in enumerate(groups):
                formal[nid, k] = self.names.id(group)
        names = self.names.strings
        extra_rows = np.arange(base, len(names), dtype=np.int32)
        added = np.full((len(extra_rows), FORMAL_SLOTS), -1, np.int32)
        added[:, 0] = extra_rows  # a formal name added here stands for itself
        formal = np.vstack([formal, added])
        phonetic = [self.codes.id("ph|" + nz.phonetic(s)) for s in names]
        n = max(self.n, 1)
        if tf is None:
            family_tf = _counts(cols["family"][:, 0], len(names)) / n
            given_tf = _counts(cols["given"][:, 0], len(names)) / n
        else:
            family_tf = np.array([tf["family"].get(s, 0.0) for s in names])
            given_tf = np.array([tf["given"].get(s, 0.0) for s in names])
        return Table(
            keys=self.keys, cols=cols, names=names,
            name_phonetic=np.array(phonetic, np.int32).reshape(-1),
            name_formal=formal.astype(np.int32),
            name_initial=np.array([ord(s[0]) if s else -1 for s in names], np.int32),
            family_tf=family_tf, given_tf=given_tf,
        )  # fmt: skip


def _counts(ids: np.ndarray, size: int) -> np.ndarray:
    valid = ids[ids >= 0]
    return np.bincount(valid, minlength=size).astype(np.float64)


def _dob_digits(dob: np.ndarray) -> np.ndarray:
    mmdd, year = dob % 10_000, dob // 10_000
    text = np.stack(
        [mmdd // 1000, mmdd // 100 % 10, mmdd // 10 % 10, mmdd % 10,
         year // 1000, year // 100 % 10, year // 10 % 10, year % 10], 1,
    )  # fmt: skip
    text[dob < 0] = -1
    return text.astype(np.int8)
