"""Level tests: vectorised predicates over pairs of records (left and right index
arrays into one `Table`). `PREDICATES[kind]` answers, for each pair, whether the
pair falls in a level of that kind; a comparison takes the first level that holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from .features import Table

Predicate = Callable[[Table, np.ndarray, np.ndarray, dict[str, Any]], np.ndarray]
PREDICATES: dict[str, Predicate] = {}


def predicate(kind: str) -> Callable[[Predicate], Predicate]:
    def register(fn: Predicate) -> Predicate:
        PREDICATES[kind] = fn
        return fn

    return register


def any_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise: does any non-empty slot of `a` equal any slot of `b`?"""
    a2, b2 = np.atleast_2d(a.T).T, np.atleast_2d(b.T).T
    out = np.zeros(len(a2), bool)
    for i in range(a2.shape[1]):
        col = a2[:, i]
        valid = col >= 0
        for j in range(b2.shape[1]):
            out |= valid & (col == b2[:, j])
    return out


def missing(a: np.ndarray) -> np.ndarray:
    return np.all(np.atleast_2d(a.T).T < 0, axis=1)


def jaro_winkler(t: Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Jaro-Winkler similarity of name ids (0 where either is empty), computed once
    per distinct pair of names; pairs already computed on this table (two levels
    at two thresholds, the guard, EM sessions then scoring) are looked up."""
    out = np.zeros(len(a), np.float64)
    ok = (a >= 0) & (b >= 0)
    if not ok.any():
        return out
    size = np.int64(len(t.names) + 1)
    keys = a[ok].astype(np.int64) * size + b[ok]
    uniq, inverse = np.unique(keys, return_inverse=True)
    known, sims = t.memo.get("jaro_winkler", _NO_SIMS)
    at = np.minimum(np.searchsorted(known, uniq), max(len(known) - 1, 0))
    found = known[at] == uniq if len(known) else np.zeros(len(uniq), bool)
    values = np.where(found, sims[at] if len(known) else 0.0, 0.0)
    new = uniq[~found]
    if len(new):
        names = name_objects(t)
        left = names[new // size].tolist()
        right = names[new % size].tolist()
        computed = np.asarray(
            cpdist(left, right, scorer=JaroWinkler.normalized_similarity, workers=1),
            np.float64,
        )
        values[~found] = computed
        _remember(t, known, sims, new, computed)
    out[ok] = values[inverse.reshape(-1)]
    return out


_NO_SIMS = (np.zeros(0, np.int64), np.zeros(0, np.float64))
MEMO_PAIRS = 4_000_000  # name pairs kept per table (64 MB); past it, start again


def name_objects(t: Table) -> np.ndarray:
    """The table's names as an object array (taking many by index is one numpy
    call, not a Python loop); made once per table."""
    found = t.memo.get("name_objects")
    if found is None or len(found) != len(t.names):
        found = t.memo["name_objects"] = np.array(t.names, dtype=object)
    return found  # type: ignore[no-any-return]


def _remember(
    t: Table, known: np.ndarray, sims: np.ndarray, new: np.ndarray, values: np.ndarray
) -> None:
    """Merge the new (sorted, distinct, none known) pairs into the sorted memo: an
    insertion at searched positions, linear, where sorting the whole memo again
    cost more the larger it grew."""
    if len(known) + len(new) > MEMO_PAIRS:
        known, sims = _NO_SIMS
    at = np.searchsorted(known, new)
    t.memo["jaro_winkler"] = (np.insert(known, at, new), np.insert(sims, at, values))


def row_missing(t: Table, field: str) -> np.ndarray:
    """Per record: no value in any slot of `field` (computed once per table)."""
    found = t.memo.get(("missing", field))
    if found is None:
        found = t.memo[("missing", field)] = missing(t[field])
    return found  # type: ignore[no-any-return]


# --- everything ----------------------------------------------------------------------


@predicate("else")
def _else(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    return np.ones(len(L), bool)


@predicate("null")
def _null(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    if "test" in p:  # missing by another test (no common authority ...)
        return PREDICATES[p["test"]](t, L, R, p)
    gone = row_missing(t, p["field"])
    return gone[L] | gone[R]


@predicate("exact")
def _exact(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Equal values: the current ones (slot 0) with scope 'current', else any of the
    record's values (history, other slots)."""
    col = t[p["field"]]
    if col.ndim == 1:
        return (col[L] >= 0) & (col[L] == col[R])
    if p.get("scope") == "current":
        return (col[L, 0] >= 0) & (col[L, 0] == col[R, 0])
    return any_equal(col[L], col[R])


# --- names ---------------------------------------------------------------------------


@predicate("nickname")
def _nickname(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Bill/William, Peggy/Margaret: the names may stand for the same formal name."""
    col = t[p["field"]]
    a, b = col[L, 0], col[R, 0]
    ok = (a >= 0) & (b >= 0)
    fa = np.where(ok[:, None], t.name_formal[np.maximum(a, 0)], -1)
    fb = np.where(ok[:, None], t.name_formal[np.maximum(b, 0)], -1)
    return any_equal(fa, fb)


@predicate("jaro_winkler")
def _jw(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    col = t[p["field"]]
    return jaro_winkler(t, col[L, 0], col[R, 0]) >= float(p["threshold"])


@predicate("phonetic")
def _phonetic(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    col = t[p["field"]]
    a, b = col[L], col[R]
    pa = np.where(a >= 0, t.name_phonetic[np.maximum(a, 0)], -1)
    pb = np.where(b >= 0, t.name_phonetic[np.maximum(b, 0)], -1)
    return any_equal(pa, pb)


@predicate("initial")
def _initial(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """'J' and 'John': one side is an initial, the other starts with it."""
    col = t[p["field"]]
    a, b = col[L, 0], col[R, 0]
    ok = (a >= 0) & (b >= 0)
    ia, ib = t.name_initial[np.maximum(a, 0)], t.name_initial[np.maximum(b, 0)]
    single = np.asarray([len(s) == 1 for s in t.names] or [False])
    one = single[np.maximum(a, 0)] | single[np.maximum(b, 0)]
    return ok & (ia == ib) & one


@predicate("swapped")
def _swapped(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Given and family name entered the wrong way round."""
    fam, giv = t["family"], t["given"]
    fa, ga, fb, gb = fam[L, 0], giv[L, 0], fam[R, 0], giv[R, 0]
    return (fa >= 0) & (ga >= 0) & (fa == gb) & (ga == fb)


# --- dates ---------------------------------------------------------------------------


def _digit_diff(t: Table, L: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, ...]:
    d = t["dob_digits"]
    a, b = d[L].astype(np.int16), d[R].astype(np.int16)
    diff = a != b
    return a, b, diff, diff.sum(axis=1)


# MMDDYYYY positions a keying slip swaps: neighbours, or two digits of the year
_SWAPS = [(i, i + 1) for i in range(7)] + [(4, 6), (5, 7), (4, 7)]


@predicate("date_transposed")
def _transposed(
    t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]
) -> np.ndarray:
    """Two neighbouring digits of MMDDYYYY swapped (or two of the year), or day
    and month swapped."""
    a, b, diff, count = _digit_diff(t, L, R)
    swap = np.zeros(len(L), bool)
    two = count == 2
    for i, j in _SWAPS:
        swap |= (
            two & diff[:, i] & diff[:, j] & (a[:, i] == b[:, j]) & (a[:, j] == b[:, i])
        )
    dob = t["dob"]
    da, db = dob[L], dob[R]
    ma, dd_a, mb, dd_b = da // 100 % 100, da % 100, db // 100 % 100, db % 100
    dm = (da // 10_000 == db // 10_000) & (ma == dd_b) & (dd_a == mb) & (da != db)
    return (da >= 0) & (db >= 0) & (swap | dm)


@predicate("date_one_digit")
def _one_digit(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    _, _, _, count = _digit_diff(t, L, R)
    dob = t["dob"]
    return (dob[L] >= 0) & (dob[R] >= 0) & (count == 1)


@predicate("date_year_off")
def _year_off(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    dob = t["dob"]
    da, db = dob[L], dob[R]
    return (
        (da >= 0)
        & (db >= 0)
        & (da % 10_000 == db % 10_000)
        & (np.abs(da // 10_000 - db // 10_000) == 1)
    )


# --- numbers, contact, identifiers ----------------------------------------------------


@predicate("last4")
def _last4(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """SSNs whose last four agree while the full numbers (keyed hashes) differ: a
    slip in the first five digits (one digit off, two transposed)."""
    four = t["ssn_last4"]
    return any_equal(four[L], four[R])


@predicate("last4_slip")
def _last4_slip(
    t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]
) -> np.ndarray:
    """Last fours one keying slip apart (one digit wrong, or two neighbours
    swapped): a slip in the last four, the first five unseen (keyed hashes)."""
    a, b = t["ssn_last4"][L, 0], t["ssn_last4"][R, 0]
    da = np.stack([a // 10**k % 10 for k in range(4)], 1)
    db = np.stack([b // 10**k % 10 for k in range(4)], 1)
    diff = da != db
    count = diff.sum(axis=1)
    swap = np.zeros(len(L), bool)
    for i in range(3):
        swap |= (
            (count == 2) & diff[:, i] & diff[:, i + 1]
            & (da[:, i] == db[:, i + 1]) & (da[:, i + 1] == db[:, i])
        )  # fmt: skip
    return (a >= 0) & (b >= 0) & ((count == 1) | swap)


@predicate("last7")
def _last7(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Same local number under another area code."""
    phone = t["phone"]
    a = np.where(phone[L] >= 0, phone[L] % 10_000_000, -1)
    b = np.where(phone[R] >= 0, phone[R] % 10_000_000, -1)
    return any_equal(a, b)


@predicate("no_common_system")
def _no_common(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """No identifier issued by one authority to both records: nothing to compare."""
    s = t["ident_system"]
    return ~any_equal(s[L], s[R])


# --- guards ---------------------------------------------------------------------------


@predicate("twin_pattern")
def _twins(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Same birth date and surname, not one SSN nor one middle initial, and either
    the sexes differ or the given names (aliases included) are unrelated: multiple
    births look like this (twins have an SSN each; a shared SSN says one person
    whose given name was garbled)."""
    dob, fam, sex = t["dob"], t["family"], t["sex"]
    same = (dob[L] >= 0) & (dob[L] == dob[R]) & any_equal(fam[L], fam[R])
    same &= ~any_equal(t["ssn"][L], t["ssn"][R])
    # one middle initial: one person whose first name was replaced (a fake or a
    # nickname no list knows); twins' middle names differ (issue 12)
    mid = t["middle_initial"]
    same &= ~((mid[L] >= 0) & (mid[L] == mid[R]))
    boy_girl = same & (sex[L] >= 0) & (sex[R] >= 0) & (sex[L] != sex[R])
    return _unrelated_given(t, L, R, same & ~boy_girl, p) | boy_girl


def _unrelated_given(
    t: Table, L: np.ndarray, R: np.ndarray, among: np.ndarray, p: dict[str, Any]
) -> np.ndarray:
    """Of the pairs `among`: both given names known and not one name (not an
    alias, nickname, initial, sound-alike, near spelling or one keying slip)."""
    giv = t["given"]
    a, b = giv[L, 0], giv[R, 0]
    known = among & (a >= 0) & (b >= 0) & (a != b)
    if known.any():
        idx = np.flatnonzero(known)
        sub_l, sub_r = L[idx], R[idx]
        legal = {"field": "given"}
        related = (
            any_equal(giv[sub_l], giv[sub_r])  # an alias is a name the person uses
            | _nickname(t, sub_l, sub_r, legal)
            | (t.name_phonetic[a[idx]] == t.name_phonetic[b[idx]])
            | _initial(t, sub_l, sub_r, legal)
            | _swapped(t, sub_l, sub_r, {})
            | (jaro_winkler(t, a[idx], b[idx]) >= float(p.get("threshold", 0.9)))
            | _one_slip(t, a[idx], b[idx])
        )
        known[idx] = ~related
    return known


@predicate("household_pattern")
def _household(t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Same surname, no shared SSN, and given names that are not one name: a
    parent, child or spouse at the family's address, phone and e-mail (issue 12:
    what the household shares made namesakes' relatives matches)."""
    fam, mid, giv = t["family"], t["middle_initial"], t["given"]
    same = any_equal(fam[L], fam[R])
    mids = (mid[L] >= 0) & (mid[R] >= 0) & (mid[L] != mid[R])
    ssn = any_equal(t["ssn"][L], t["ssn"][R])
    if p.get("shared_ssn"):
        # given and middle names both not one name: a relative registered under
        # the household's SSN (a child under a parent's), not one person twice
        return _unrelated_given(t, L, R, same & ssn & mids, p)
    same &= ~ssn
    one_blank = (giv[L, 0] < 0) != (giv[R, 0] < 0)
    return _unrelated_given(t, L, R, same, p) | (same & one_blank & mids)


def _one_slip(t: Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Names one keying slip apart (a letter wrong, missing, extra or swapped)."""
    names, pairs = t.names, zip(a.tolist(), b.tolist(), strict=True)
    return np.array([OSA.distance(names[x], names[y]) <= 1 for x, y in pairs], bool)


@predicate("generation")
def _generation(
    t: Table, L: np.ndarray, R: np.ndarray, p: dict[str, Any]
) -> np.ndarray:
    """Jr. and Sr. (or II and III): a father and son, not one person."""
    s = t["suffix"]
    return (s[L] > 0) & (s[R] > 0) & (s[L] != s[R])


def levels_of(
    t: Table, L: np.ndarray, R: np.ndarray, kinds: list[tuple[str, dict[str, Any]]]
) -> np.ndarray:
    """For each pair, the index of the first level (kind, params) that holds."""
    out = np.full(len(L), len(kinds) - 1, np.int8)
    todo = np.arange(len(L))
    for k, (kind, params) in enumerate(kinds):
        if not len(todo):
            break
        hit = PREDICATES[kind](t, L[todo], R[todo], params)
        out[todo[hit]] = k
        todo = todo[~hit]
    return out
