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

    def extend(self, rec: np.ndarray, val: np.ndarray, prio: np.ndarray | int) -> None:
        """`add` for many rows at once, in this order."""
        self.rec.frombytes(np.ascontiguousarray(rec, np.int32).tobytes())
        self.val.frombytes(np.ascontiguousarray(val, np.int64).tobytes())
        prios = np.broadcast_to(np.asarray(prio, np.int8), np.shape(rec))
        self.prio.frombytes(np.ascontiguousarray(prios).tobytes())

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

    # --- many rows at once (a scan's load): the same values as the methods above
    # row by row, in the same order; each distinct raw value normalised once

    def people(self, rows: np.ndarray, births: list[Any], sexes: list[Any]) -> None:
        """`person` (no key) for many rows: a birth date as the driver gives it
        (a date, ISO text or None)."""
        dob = self._distinct(births, _dob_int, np.int32)
        self.scalars["dob"][rows] = dob
        self.scalars["sex"][rows] = self._distinct(
            sexes, lambda x: _SEX.get(x, -1), np.int8
        )

    def names_bulk(
        self, rec: np.ndarray, family: list[Any], given: list[Any],
        middle: list[Any], suffix: list[Any], legal: np.ndarray,
    ) -> None:  # fmt: skip
        """`name` for many rows (`legal`: current legal name, per row)."""
        n = len(rec)
        if not n:
            return
        raw: dict[Any, int] = {}
        fam = np.fromiter((raw.setdefault(x, len(raw)) for x in family), np.int64, n)
        giv = np.fromiter((raw.setdefault(x, len(raw)) for x in given), np.int64, n)
        keys = [self._key(x) for x in raw]
        blank = np.array([ph.is_placeholder_name(k) for k in keys], bool)
        pair = fam * len(raw) + giv
        distinct, inverse = np.unique(pair, return_inverse=True)
        doe = np.array([
            ph.is_placeholder_pair(keys[int(x) // len(raw)], keys[int(x) % len(raw)])
            for x in distinct
        ], bool)[inverse.reshape(-1)]  # fmt: skip
        kept = ~doe
        prio = np.where(legal, 0, 1).astype(np.int8)
        # every name string of the batch (keys and their parts) as a batch id
        sid: dict[str, int] = {}
        key_sid = np.array([sid.setdefault(k, len(sid)) for k in keys], np.int64)
        parts = [nz.name_parts(k) for k in keys]
        entries = []  # (row, order in the row, field, batch string id, priority)
        for field, ids, base, most in (
            ("family", fam, 0, None),
            ("given", giv, 100, 1),
        ):
            rows = np.flatnonzero(kept & ~blank[ids])
            entries.append((rows, np.full(len(rows), base), field, key_sid[ids[rows]],
                            prio[rows]))  # fmt: skip
            own = [p[:most] for p in parts]
            count = np.array([len(p) for p in own], np.int64)
            flat = np.array(
                [sid.setdefault(x, len(sid)) for p in own for x in p], np.int64
            )
            start = np.concatenate([[0], np.cumsum(count)[:-1]])
            per_row = count[ids[rows]]
            at = np.repeat(rows, per_row)
            offset = np.arange(len(at)) - np.repeat(
                np.cumsum(per_row) - per_row, per_row
            )
            entries.append((at, base + 1 + offset, field,
                            flat[start[ids[at]] + offset] if len(at) else at,
                            np.full(len(at), 2)))  # fmt: skip
        row = np.concatenate([e[0] for e in entries])
        sub = np.concatenate([e[1] for e in entries])
        sids = np.concatenate([e[3] for e in entries]).astype(np.int64)
        order = np.lexsort((sub, row))
        # vocabulary ids in order of first sight, as `name` row by row gives them
        strings = list(sid)
        vocab = np.full(len(strings), -1, np.int64)
        seen, first = np.unique(sids[order], return_index=True)
        for x in seen[np.argsort(first)].tolist():
            vocab[x] = self.names.id(strings[x])
        for field in ("family", "given"):
            e_main, e_part = entries[0:2] if field == "family" else entries[2:4]
            f_row = np.concatenate([e_main[0], e_part[0]])
            f_sub = np.concatenate([e_main[1], e_part[1]])
            f_sid = np.concatenate([e_main[3], e_part[3]]).astype(np.int64)
            f_prio = np.concatenate([e_main[4], e_part[4]])
            o = np.lexsort((f_sub, f_row))
            self.slotted[field].extend(rec[f_row[o]], vocab[f_sid[o]], f_prio[o])
        legal_rows = np.flatnonzero(kept & np.asarray(legal, bool))
        if len(legal_rows):
            mids = self._distinct([middle[i] for i in legal_rows.tolist()],
                                  self._middle_initial, np.int32)  # fmt: skip
            sufs = self._distinct([suffix[i] for i in legal_rows.tolist()],
                                  nz.suffix_class, np.int8)  # fmt: skip
            has = mids >= 0
            _last_wins(self.scalars["middle_initial"], rec[legal_rows[has]], mids[has])
            _last_wins(self.scalars["suffix"], rec[legal_rows], sufs)

    def _middle_initial(self, middle: Any) -> int:
        mid = self._key(middle) if middle else ""
        if mid and (len(mid) == 1 or not ph.is_placeholder_name(mid)):
            return ord(mid[0])
        return -1

    @staticmethod
    def _distinct(values: list[Any], fn: Any, dtype: Any) -> np.ndarray:
        """fn of each value, computed once per distinct value."""
        done: dict[Any, Any] = {}
        for x in values:
            if x not in done:
                done[x] = fn(x)
        return np.fromiter((done[x] for x in values), dtype, len(values))

    def ssns_bulk(
        self,
        rec: np.ndarray,
        lookups: list[str],
        last4s: list[str],
        current: np.ndarray,
    ) -> None:
        """`ssn` for many rows."""
        skip = self._placeholder_ssns
        keep = [j for j, (lk, l4) in enumerate(zip(lookups, last4s, strict=True))
                if lk not in skip and l4 != "0000"]  # fmt: skip
        at = np.array(keep, np.int64)
        prio = np.where(np.asarray(current, bool), 0, 1)[at] if len(at) else at
        codes = np.fromiter((code(lookups[j]) for j in keep), np.int64, len(keep))
        self.slotted["ssn"].extend(rec[at], codes, prio)
        digits = [j for j, k in enumerate(keep) if last4s[k].isdigit()]
        four = np.fromiter(
            (int(last4s[keep[j]]) for j in digits), np.int64, len(digits)
        )
        sel = np.array(digits, np.int64)
        self.slotted["ssn_last4"].extend(rec[at[sel]], four,
                                         prio[sel] if len(sel) else sel)  # fmt: skip

    def identifiers_bulk(
        self, rec: np.ndarray, systems: list[str], lookups: list[str]
    ) -> None:
        """`identifier` for many rows."""
        n = len(rec)
        idents = np.fromiter(
            (code(f"{s}|{lk}") for s, lk in zip(systems, lookups, strict=True)),
            np.int64, n,
        )  # fmt: skip
        self.slotted["ident"].extend(rec, idents, 1)
        self.slotted["ident_system"].extend(
            rec, self._distinct(systems, code, np.int64), 1
        )

    def telecoms_bulk(
        self,
        rec: np.ndarray,
        systems: list[str],
        values: list[str],
        current: np.ndarray,
    ) -> None:
        """`telecom` for many rows."""
        prio = np.where(np.asarray(current, bool), 0, 1)
        found = [_telecom(s, v) for s, v in zip(systems, values, strict=True)]
        for field in ("email", "phone"):
            at = np.array(
                [j for j, f in enumerate(found) if f and f[0] == field], np.int64
            )
            vals = np.fromiter((found[j][1] for j in at.tolist()), np.int64, len(at))  # type: ignore[index]
            self.slotted[field].extend(rec[at], vals, prio[at])

    def addresses_bulk(
        self, rec: np.ndarray, line1: list[Any], line2: list[Any], postal: list[Any],
        current: np.ndarray,
    ) -> None:  # fmt: skip
        """`address` for many rows, each distinct address normalised once."""
        prio = np.where(np.asarray(current, bool), 0, 1)
        done: dict[Any, Any] = {}
        found = []
        for a in zip(line1, line2, postal, strict=True):
            if a not in done:
                done[a] = _address_codes(*a)
            found.append(done[a])
        for k, field in enumerate(
            ("address", "street", "address_sound", "street_name", "zip")
        ):
            at = np.array(
                [j for j, f in enumerate(found) if f and f[k] is not None], np.int64
            )
            vals = np.fromiter((found[j][k] for j in at.tolist()), np.int64, len(at))
            self.slotted[field].extend(rec[at], vals, prio[at])

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


def _dob_int(value: Any) -> int:
    """A birth date as the driver returns it -> yyyymmdd, -1 if none or placeholder."""
    if value is not None and not isinstance(value, date):
        value = date.fromisoformat(str(value)[:10])
    return -1 if ph.is_placeholder_date(value) else nz.date_int(value)


def _last_wins(target: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """target[rows] = values, the last value of a repeated row winning (as a loop
    assigning one by one would)."""
    if not len(rows):
        return
    back = rows[::-1]
    _, first = np.unique(back, return_index=True)
    target[back[first]] = values[::-1][first]


def _telecom(system: str, value: str) -> tuple[str, int] | None:
    """(field, value) a contact point adds, as `TableBuilder.telecom`, or None."""
    if system == "email":
        key = nz.email_key(value)
        return None if ph.is_placeholder_email(key) else ("email", code(key))
    digits = nz.phone_digits(value)
    return None if ph.is_placeholder_phone(digits) else ("phone", int(digits))


def _address_codes(line1: str, line2: str, postal_code: str) -> tuple[Any, ...] | None:
    """(address, street, address_sound, street_name, zip) codes an address adds, as
    `TableBuilder.address` (None where it adds none), or None for a placeholder."""
    street, zip_code = nz.street_key(line1), nz.zip5(postal_code)
    if ph.is_placeholder_address(street):
        return None
    unit = nz.street_key(line2) if line2 else ""
    number, _, name = street.partition(" ")
    if not number.isdigit():
        number, name = "", street
    return (
        code(f"{street}|{unit}|{zip_code}"),
        code(f"{street}|{zip_code}"),
        code(f"{number}|{nz.phonetic(name)}|{zip_code}"),
        code(f"{name}|{zip_code}") if number else None,
        int(zip_code) if zip_code.isdigit() else None,
    )


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
