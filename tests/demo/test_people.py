"""The planned population (pure, no database): duplicates, twins, synthetic SSNs."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from recordroom.demo.people import ERRORS, plan_people
from recordroom.demo.places import roster
from recordroom.kernel.npi import npi_problem

AS_OF = date(2025, 6, 30)


def test_planted_duplicates_carry_each_kind_of_registration_error():
    plans = plan_people(42, 0, 1200, AS_OF)
    relations = Counter(p.relation for p in plans)
    duplicates = sum(n for r, n in relations.items() if r.startswith("duplicate:"))
    assert 0.03 * 1200 < duplicates < 0.07 * 1200
    assert {f"duplicate:{e}" for e in ERRORS} <= set(relations)
    by_person = defaultdict(list)
    for plan in plans:
        by_person[plan.person_id].append(plan)
    for records in by_person.values():
        if len(records) == 1:
            continue
        original, dup = records
        assert (original.relation, original.ordinal, dup.ordinal) == ("original", 0, 1)
        assert set(original.mrns.values()).isdisjoint(dup.mrns.values())
        kind = dup.relation.split(":")[1]
        if kind == "transposed-dob":
            assert dup.birth_date != original.birth_date
        elif kind == "swapped-names":
            assert (dup.legal.given, dup.legal.family) == (
                original.legal.family, original.legal.given,
            )  # fmt: skip
        elif kind == "missing-fields":
            assert not dup.ssn and not dup.addresses and not dup.telecoms
        elif kind in ("typo", "nickname", "surname-change"):
            assert (dup.legal.given, dup.legal.family) != (
                original.legal.given, original.legal.family,
            )  # fmt: skip
            assert dup.birth_date == original.birth_date


def test_twins_share_surname_birth_date_and_address_but_are_two_people():
    plans = plan_people(42, 0, 1200, AS_OF)
    twins = [p for p in plans if p.relation == "twin"]
    assert twins and len(twins) % 2 == 0
    for a, b in zip(twins[::2], twins[1::2], strict=True):
        assert a.person_id != b.person_id
        assert (a.legal.family, a.birth_date) == (b.legal.family, b.birth_date)
        assert a.addresses[0]["line1"] == b.addresses[0]["line1"]
        assert a.legal.given != b.legal.given


def test_ssns_are_never_in_issued_ranges_and_names_include_accents():
    plans = plan_people(7, 0, 600, AS_OF)
    ssns = [p.ssn for p in plans if p.ssn]
    assert len(ssns) > 400
    assert all(900 <= int(s[:3]) <= 999 for s in ssns)  # never issued by the SSA
    families = {p.legal.family for p in plans}
    assert any(any(ch in f for ch in "áéíóúñÑÓü") for f in families)
    assert {p.sex for p in plans} >= {"female", "male"}
    assert min(p.birth_date for p in plans).year <= AS_OF.year - 90


def test_slices_plan_the_same_people_as_the_whole():
    whole = plan_people(42, 0, 40, AS_OF)
    parts = plan_people(42, 0, 20, AS_OF) + plan_people(42, 20, 40, AS_OF)
    assert [(p.person, p.relation, p.legal.family, p.birth_date) for p in whole] == [
        (p.person, p.relation, p.legal.family, p.birth_date) for p in parts
    ]


def test_roster_has_valid_unique_npis():
    providers = roster()
    assert len(providers) >= 40
    assert all(npi_problem(p.npi) is None for p in providers)
    assert len({p.npi for p in providers}) == len(providers)
