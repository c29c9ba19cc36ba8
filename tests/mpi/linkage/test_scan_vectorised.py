"""The scan's column-at-a-time paths give exactly what the record-at-a-time ones
gave (issue 12: the scan faster than Splink at scale, the same results): the index
loaded in bulk against the same records fed one by one to `TableBuilder`, EM over
distinct level patterns against EM over every pair, u without the guards'
levels against u with them, and `any_equal` skipping empty slots against a loop."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import numpy as np
import pytest

from recordroom.demo.people import plan_people
from recordroom.demo.rows import write_batch
from recordroom.demo.setup import ensure_scenery
from recordroom.kernel.actor import Actor
from recordroom.mpi.linkage import estimate, loading
from recordroom.mpi.linkage.blocking import candidate_pairs
from recordroom.mpi.linkage.defaults import default_model
from recordroom.mpi.linkage.features import SLOTS, Table, TableBuilder
from recordroom.mpi.linkage.levels import any_equal
from recordroom.mpi.linkage.scoring import apply_guards, comparison_levels
from recordroom.mpi.models import (
    IdentifierKind,
    NameUse,
    Patient,
    PatientAddress,
    PatientIdentifier,
    PatientName,
    PatientTelecom,
)
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, register_patient

ACTOR = Actor(channel="cli", name="cli:tester")


def _odd_records() -> list[PatientIn]:
    """What registration really holds besides clean records: placeholders of every
    kind, a JOHN DOE, compound names, a name history and aliases, two legal names,
    suffixes, middle initials and placeholder middles, several addresses, phones
    and e-mails, SSNs real, ended and placeholder, other identifiers."""
    ssn = IdentifierKind.SSN.value
    return [
        PatientIn(names=[NameIn("Doe", "John")], birth_date=date(1900, 1, 1)),
        PatientIn(
            names=[NameIn("UNKNOWN", "Baby Girl", middle="XXX")],
            sex="female",
            identifiers=[IdentifierIn(ssn, "999-99-9999")],
        ),
        PatientIn(
            names=[
                NameIn("García-López", "Mary Ann", middle="R", suffix="Jr."),
                NameIn("Smith Jones", "Mary", use=NameUse.MAIDEN.value),
                NameIn("Lopez", "Molly", use=NameUse.ALIAS.value),
                NameIn("Garcia", "Maria", period_end=date(2020, 1, 1)),
            ],
            birth_date=date(1975, 3, 9),
            sex="female",
            identifiers=[
                IdentifierIn(ssn, "123-45-6780"),
                IdentifierIn(ssn, "123-45-6789", period_end=date(2019, 5, 1)),
                IdentifierIn(
                    IdentifierKind.DRIVER.value, "D1234567", system="urn:dl:ca"
                ),
                IdentifierIn(IdentifierKind.MEMBER.value, "M-77", system="urn:payer:1"),
            ],
            addresses=[
                {
                    "line1": "12 North Oak Street",
                    "line2": "Apt 4",
                    "postal_code": "94110-1234",
                },
                {"line1": "Homeless", "postal_code": "94110"},
                {
                    "line1": "400 Main St",
                    "postal_code": "9410",
                    "period_end": date(2018, 1, 1),
                },
            ],
            telecoms=[
                {"system": "phone", "value": "+1 (415) 555-0199"},
                {"system": "phone", "value": "555-5555"},
                {"system": "email", "value": " Mary@Example.ORG "},
                {"system": "email", "value": "none@none"},
                {
                    "system": "phone",
                    "value": "415-555-0100",
                    "period_end": date(2021, 1, 1),
                },
            ],
        ),
        PatientIn(
            names=[
                NameIn("O'Brien", "Seán", middle="Pádraig", suffix="III"),
                NameIn("OBrien", "John"),
            ],
            birth_date=date(1950, 12, 31),
            sex="male",
            identifiers=[
                IdentifierIn(ssn, "078-05-1120"),
                IdentifierIn(ssn, "219-09-9990"),
            ],
        ),
        PatientIn(names=[NameIn("Nguyen", "")], birth_date=date(2024, 2, 29)),
        PatientIn(
            names=[NameIn("Lee", "J", middle="Unknown")],
            sex="other",
            addresses=[
                {"line1": "12 N Oak St", "line2": "apt 4", "postal_code": "94110"}
            ],
        ),
    ]


@pytest.fixture
def index(db):
    plans = plan_people(17, 0, 250, date(2026, 1, 1))
    write_batch(actor=ACTOR, plans=plans, stored=[], scenery=ensure_scenery())
    for data in _odd_records():
        register_patient(actor=ACTOR, data=data)
    return Patient.objects.filter(merged_into__isnull=True).count()


def _record_by_record() -> Table:
    """The index as the scan read it before (one builder call per row, the same
    raw cursor and ordering)."""
    total = loading.count_patients()
    b = TableBuilder(total)
    hexes = np.zeros(total, dtype="S32")
    retired = "merged_into_id"
    sql = loading._select(Patient, ["id", "birth_date", "sex"],
                          f"WHERE {retired} IS NULL ORDER BY 1")  # fmt: skip
    for i, (pk, birth, sex) in enumerate(loading._rows(sql)):
        hexes[i] = loading._hex(pk)
        b.person(i, "", loading._date(birth), sex)
    b.keys = loading.HexKeys(hexes)
    index = loading._Index(hexes, np.arange(total))
    legal = NameUse.LEGAL.value
    cols = ["patient", "use", "family", "given", "middle", "suffix", "period_end"]
    for i, (use, family, given, middle, suffix, end) in loading._parts(
        PatientName, cols, index, "", []
    ):
        b.name(i, family=family, given=given, middle=middle, suffix=suffix,
               current_legal=use == legal and end is None)  # fmt: skip
    cols = ["patient", "kind", "system", "lookup", "last4", "period_end"]
    for i, (kind, system, lookup, last4, end) in loading._parts(
        PatientIdentifier, cols, index, "WHERE kind <> 'MR'", []
    ):
        if kind == IdentifierKind.SSN:
            b.ssn(i, lookup, last4, current=end is None)
        else:
            b.identifier(i, system, lookup)
    cols = ["patient", "line1", "line2", "postal_code", "period_end"]
    for i, (line1, line2, postal, end) in loading._parts(
        PatientAddress, cols, index, "", []
    ):
        b.address(i, line1, line2, postal, current=end is None)
    cols = ["patient", "system", "value", "period_end"]
    for i, (system, value, end) in loading._parts(PatientTelecom, cols, index, "", []):
        b.telecom(i, system, value, current=end is None)
    return b.build()


def _assert_same_table(got: Table, want: Table) -> None:
    assert list(got.keys[:]) == list(want.keys[:])
    assert got.names == want.names
    assert sorted(got.cols) == sorted(want.cols)
    for field, values in want.cols.items():
        assert got.cols[field].dtype == values.dtype, field
        assert np.array_equal(got.cols[field], values), field
    for attr in ("name_phonetic", "name_formal", "name_initial", "family_tf",
                 "given_tf"):  # fmt: skip
        assert np.array_equal(getattr(got, attr), getattr(want, attr)), attr


def test_the_index_loaded_in_bulk_is_the_table_built_record_by_record(index):
    want = _record_by_record()
    got = loading.load_index()
    assert len(got) == index > 250
    _assert_same_table(got, want)
    # the odd records really exercise what the bulk path must get right
    row = {k: i for i, k in enumerate(got.keys[:])}
    mary = row[str(PatientName.objects.get(family="García-López").patient_id)]
    assert got["middle_initial"][mary] == ord("r")
    assert got["suffix"][mary] == 1  # Jr
    fams = [got.names[x] for x in got["family"][mary] if x >= 0]
    # the legal name first, then the others (maiden, alias, ended, the parts)
    assert fams[0] == "garcia lopez" and len(fams) == SLOTS["family"]
    # 123-45-6789, ended, is a listed placeholder: only the current SSN counts
    assert (got["ssn"][mary] >= 0).sum() == 1 and got["ssn_last4"][mary, 0] == 6780
    assert (got["address"][mary] >= 0).sum() == 2  # 'Homeless' is no address
    assert (got["phone"][mary] >= 0).sum() == 2 and got["phone"][mary, 0] == 4155550199
    doe = row[str(PatientName.objects.get(family="Doe").patient_id)]
    assert got["family"][doe, 0] == got["given"][doe, 0] == -1
    assert got["dob"][doe] == -1


def test_the_bulk_load_reads_in_batches_as_one(index, monkeypatch):
    """Batches smaller than a name's rows, and a vocabulary carried across them."""
    want = loading.load_index()
    monkeypatch.setattr(loading, "_FETCH", 7)
    _assert_same_table(loading.load_index(), want)


def _em_pair_by_pair(model: Any, levels: np.ndarray, frozen: set[str],
                     iterations: int) -> float:  # fmt: skip
    """EM as it ran before: every pair its own row."""
    lam, comps = 0.1, model.comparisons
    for _ in range(iterations):
        weights = np.zeros(levels.shape)
        for c, comp in enumerate(comps):
            if comp.name not in frozen:
                weights[:, c] = np.array([lv.weight for lv in comp.levels])[
                    levels[:, c]
                ]
        apply_guards(model, levels, weights)
        odds = lam / (1 - lam) * np.exp2(np.clip(weights.sum(axis=1), -200, 200))
        post = odds / (1 + odds)
        change = abs(float(post.mean()) - lam)
        lam = min(max(float(post.mean()), 1e-6), 1 - 1e-6)
        for c, comp in enumerate(comps):
            if comp.name in frozen:
                continue
            real = [k for k, lv in enumerate(comp.levels)
                    if not lv.is_null and not lv.fixed]  # fmt: skip
            if not real:
                continue
            weight = np.bincount(levels[:, c], weights=post, minlength=len(comp.levels))
            total = weight[
                [k for k, lv in enumerate(comp.levels) if not lv.is_null]
            ].sum()
            if total <= 0:
                continue
            for k, new in estimate.bounded_m(comp.levels, real, weight / total).items():
                change = max(change, abs(new - (comp.levels[k].m or 0)))
                comp.levels[k].m = new
        if change < 1e-5:
            break
    return lam


def test_em_over_level_patterns_is_em_over_every_pair(index):
    t = loading.load_index()
    model = default_model()
    estimate.estimate_u(model, t, pairs=50_000, seed=1)
    left, right, _ = candidate_pairs(model, t)
    assert len(left) > 20
    # the candidates and random pairs: matches and non-matches for EM to tell apart
    rng = np.random.default_rng(4)
    left = np.concatenate([left, rng.integers(0, len(t), 3000)])
    right = np.concatenate([right, rng.integers(0, len(t), 3000)])
    levels = comparison_levels(model, t, left, right)
    patterns, counts = estimate.level_patterns(levels)
    assert len(patterns) < len(left) and counts.sum() == len(left)
    by_pattern, by_pair = copy.deepcopy(model), copy.deepcopy(model)
    lam, _ = estimate._em(by_pattern, levels, {"birth_date"}, 40)
    want = _em_pair_by_pair(by_pair, levels, {"birth_date"}, 40)
    assert lam == pytest.approx(want, rel=1e-12, abs=1e-15)
    for a, b in zip(by_pattern.comparisons, by_pair.comparisons, strict=True):
        for la, lb in zip(a.levels, b.levels, strict=True):
            assert (la.m is None) == (lb.m is None)
            if la.m is not None:
                assert la.m == pytest.approx(lb.m, rel=1e-9, abs=1e-15), la.label


def test_u_without_the_guards_levels_is_u_with_them(index):
    """The guards' levels are all fixed: leaving them out of u's random pairs
    changes no u (the same seed gives the same pairs)."""
    t = loading.load_index()
    model = default_model()
    estimate.estimate_u(model, t, pairs=50_000, seed=5)
    n, rng = len(t), np.random.default_rng(5)
    counts = [np.zeros(len(c.levels), np.int64) for c in model.comparisons]
    for size in (50_000,):
        left = rng.integers(0, n, size)
        right = rng.integers(0, n - 1, size)
        right = right + (right >= left)
        levels = comparison_levels(model, t, left, right)
        for c, comp in enumerate(model.comparisons):
            counts[c] += np.bincount(levels[:, c], minlength=len(comp.levels))
    checked = 0
    for c, comp in enumerate(model.comparisons):
        real = [k for k, lv in enumerate(comp.levels) if not lv.is_null]
        total = counts[c][real].sum()
        for k in real:
            if not comp.levels[k].fixed:
                want = float((counts[c][k] + 0.5) / (total + 0.5 * len(real)))
                assert comp.levels[k].u == want, comp.levels[k].label
                checked += 1
    assert checked > 20


def test_any_equal_skipping_empty_slots_is_the_plain_loop():
    rng = np.random.default_rng(2)
    for width_a, width_b in ((1, 1), (3, 3), (4, 2), (2, 4)):
        a = rng.integers(-1, 4, (500, width_a))
        b = rng.integers(-1, 4, (500, width_b))
        a[:, -1] = -1  # a slot no row uses
        if width_b > 1:
            b[:, 1] = -1
        want = [
            any(x >= 0 and x in set(row_b) for x in row_a)
            for row_a, row_b in zip(a.tolist(), b.tolist(), strict=True)
        ]
        assert any_equal(a, b).tolist() == want
    assert any_equal(np.zeros((0, 3), int), np.zeros((0, 3), int)).tolist() == []
    assert set(SLOTS) >= {"family", "address"}
