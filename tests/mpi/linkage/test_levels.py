"""Comparison levels on real values: nicknames, transposed dates, swapped names,
name history, and placeholders that never count as evidence."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recordroom.kernel.text import search_key
from recordroom.mpi.linkage.defaults import default_model
from recordroom.mpi.linkage.nicknames import are_nicknames, formal_names
from recordroom.mpi.linkage.normalize import name_key, street_key
from recordroom.mpi.linkage.scoring import score

from .helpers import DOB, pair_levels, table

MODEL = default_model()


@pytest.mark.parametrize(
    ("a", "b"), [("Bill", "William"), ("Peggy", "Margaret"), ("Bob", "Robert"),
                 ("Lupe", "Guadalupe")],
)  # fmt: skip
def test_nicknames_are_one_given_name(a, b):
    t = table({"family": "Okafor", "given": a}, {"family": "Okafor", "given": b})
    assert pair_levels(MODEL, t, "given_name") == "nickname"
    assert are_nicknames(a.lower(), b.lower())


def test_nickname_groups_name_every_formal_name():
    assert formal_names("alex") == ("alejandro", "alexander", "alexandra", "alex")
    assert formal_names("zoe") == ("zoe",)
    assert not are_nicknames("bill", "robert")


def test_typo_is_close_and_unrelated_names_differ():
    t = table(
        {"family": "Kowalczyk", "given": "Jonathan"},
        {"family": "Kowalcyzk", "given": "Jonathon"},
        {"family": "Kowalczyk", "given": "Priya"},
    )
    assert pair_levels(MODEL, t, "family_name") == "close (Jaro-Winkler >= 0.92)"
    assert pair_levels(MODEL, t, "given_name", 0, 2) == "different"


def test_swapped_given_and_family_names():
    t = table(
        {"family": "Nguyen", "given": "Thao", "dob": DOB},
        {"family": "Thao", "given": "Nguyen", "dob": DOB},
    )
    assert pair_levels(MODEL, t, "given_name") == "swapped with the other name"
    # one slip, weighed once: under the given name
    assert pair_levels(MODEL, t, "family_name") == "swapped (weighed under given name)"
    assert (
        MODEL.comparison("family_name")
        .level("swapped (weighed under given name)")
        .weight
        == 0
    )


def test_maiden_name_from_history_and_hyphenated_parts():
    t = table(
        {"family": "Lindqvist", "given": "Emma", "history": ["Brandt"]},
        {"family": "Brandt", "given": "Emma"},
        {"family": "Garcia-Lopez", "given": "Ana"},
        {"family": "Lopez", "given": "Ana"},
    )
    assert pair_levels(MODEL, t, "family_name", 0, 1) == "exact (history or part)"
    assert pair_levels(MODEL, t, "family_name", 2, 3) == "exact (history or part)"


@pytest.mark.parametrize(
    ("other", "level"),
    [
        (date(1980, 4, 12), "exact"),
        (date(1980, 4, 21), "two digits transposed or day/month swapped"),  # 0412->0421
        (date(1908, 4, 12), "two digits transposed or day/month swapped"),  # 1980->1908
        (date(1980, 12, 4), "two digits transposed or day/month swapped"),  # day/month
        (date(1980, 4, 13), "one digit off"),
        (date(1981, 4, 12), "year off by one"),
        (date(1979, 4, 12), "year off by one"),
        (date(1975, 9, 30), "different"),
        (date(1940, 8, 12), "different"),  # 04121980 -> 08121940 is no keying slip
    ],
)
def test_birth_date_levels(other, level):
    t = table({"family": "Reyes", "dob": DOB}, {"family": "Reyes", "dob": other})
    assert pair_levels(MODEL, t, "birth_date") == level


@pytest.mark.parametrize(
    ("field", "left", "right", "comparison"),
    [
        ("given", "Baby Boy", "Baby Boy", "given_name"),
        ("family", "UNKNOWN", "Unknown", "family_name"),
        ("dob", date(1900, 1, 1), date(1900, 1, 1), "birth_date"),
        ("ssn", "999-99-9999", "999-99-9999", "ssn"),
        ("ssn", "123-45-6789", "123-45-6789", "ssn"),
        ("phones", ["000-000-0000"], ["000-000-0000"], "phone"),
        ("emails", ["none@none.com"], ["none@none.com"], "email"),
        ("address", ("Homeless", "60601"), ("HOMELESS", "60601"), "address"),
    ],
)
def test_placeholders_are_missing_not_evidence(field, left, right, comparison):
    t = table({"family": "Doe-Ray", field: left}, {"family": "Doe-Ray", field: right})
    assert pair_levels(MODEL, t, comparison) == "missing"
    scored = score(MODEL, t, t.cols["dob"][:1] * 0, t.cols["dob"][:1] * 0 + 1)
    c = [x.name for x in MODEL.comparisons].index(comparison)
    assert scored.weights[0, c] == 0.0


def test_john_doe_is_no_name():
    t = table({"family": "Doe", "given": "John"}, {"family": "Doe", "given": "John"})
    assert pair_levels(MODEL, t, "family_name") == "missing"
    assert pair_levels(MODEL, t, "given_name") == "missing"


def test_ssn_by_keyed_hash_and_last_four():
    t = table(
        {"family": "Ito", "ssn": "912-34-5678"},
        {"family": "Ito", "ssn": "912-34-5678"},
        {"family": "Ito", "ssn": "921-34-5678"},  # first five slipped, last four agree
        {"family": "Ito", "ssn": "955-11-2222"},
    )
    assert pair_levels(MODEL, t, "ssn", 0, 1) == "same number"
    assert pair_levels(MODEL, t, "ssn", 0, 2) == "last four agree, number differs"
    assert pair_levels(MODEL, t, "ssn", 0, 3) == "different"


def test_twins_and_generations_are_guarded():
    home = {"family": "Osei", "dob": DOB, "address": ("4 Birch Lane", "60614"),
            "phones": ["312-555-0199"]}  # fmt: skip
    t = table(
        {**home, "given": "Kwame"}, {**home, "given": "Ama"},
        {"family": "Hale", "given": "Robert", "suffix": "Jr."},
        {"family": "Hale", "given": "Robert", "suffix": "Sr"},
    )  # fmt: skip
    assert pair_levels(MODEL, t, "multiple_birth") == "possible twins"
    one_ssn = table({**home, "given": "Amy", "ssn": "912-11-4321"},
                    {**home, "given": "Ay", "ssn": "912-11-4321"})  # fmt: skip
    assert pair_levels(MODEL, one_ssn, "multiple_birth") == "no twin pattern"
    boy_girl = table({**home, "given": "Carly", "sex": "female"},
                     {**home, "given": "Cory", "sex": "male"})  # fmt: skip
    assert pair_levels(MODEL, boy_girl, "multiple_birth") == "possible twins"
    for a, b in (("Jonathan", "Jonathon"), ("Anna", "Anba")):
        typo = table({**home, "given": a}, {**home, "given": b})
        assert pair_levels(MODEL, typo, "multiple_birth") == "no twin pattern"
    assert pair_levels(MODEL, t, "generation", 2, 3) == "generational suffixes differ"
    scored = score(MODEL, t, t.cols["dob"][:1] * 0, t.cols["dob"][:1] * 0 + 1)
    names = [c.name for c in MODEL.comparisons]
    # what the household shares is not evidence that the twins are one person
    assert scored.weights[0, names.index("address")] == 0.0
    assert scored.weights[0, names.index("phone")] == 0.0


@given(st.text(max_size=30))
def test_name_key_is_the_index_search_key(text):
    # the engine's fast path must give the keys the index stores (family_key ...)
    assert name_key(text) == search_key(text)


def test_street_addresses_normalise_usps_style():
    assert street_key("12 North Oak Street, Apt. 4") == "12 n oak st apt 4"
    assert street_key("12 N. Oak St") == street_key("12 north oak street")
