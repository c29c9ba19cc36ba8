"""Issue 12, matching accuracy on data nobody here wrote (pseudopeople): each
behaviour the benchmark showed, on a handful of records. True pairs with a blank
first name, no birth date or a slip in the surname are still compared; a middle
initial, a slipped street name or house number and a slip in an SSN's last four
are evidence; training keeps a different first name from outweighing a shared SSN
and a different birth date or SSN from counting for almost nothing; relatives at
one address are not one person for what the household shares."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from recordroom.mpi.linkage.blocking import candidate_pairs
from recordroom.mpi.linkage.defaults import default_model
from recordroom.mpi.linkage.estimate import bounded_m, train
from recordroom.mpi.linkage.model import Level
from recordroom.mpi.linkage.scoring import score

from .helpers import DOB, pair_levels, table

MODEL = default_model()
_GIVEN = ["Ann", "Ben", "Cora", "Dan", "Eve", "Finn", "Gail", "Hugo", "Iris", "Jack"]
_FAMILY = ["Ames", "Boyd", "Cruz", "Dunn", "Egan", "Ford", "Gray", "Hart", "Ibsen"]


def _strangers(n: int) -> list[dict]:
    """People who are not the pairs under test (so blocks are realistic)."""
    return [
        {"family": _FAMILY[i % 9], "given": _GIVEN[i // 9 % 10], "sex": "female",
         "dob": date(1940, 1, 1) + timedelta(days=97 * i),
         "address": (f"{100 + i} Elm St", "98101")}
        for i in range(n)
    ]  # fmt: skip


def _compared(rows: list[dict], a: int, b: int) -> bool:
    left, right, _ = candidate_pairs(MODEL, table(*rows))
    return (min(a, b), max(a, b)) in set(
        zip(left.tolist(), right.tolist(), strict=True)
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # blank first name on one side, no birth date on the other (census / SSA)
        ({"family": "Alonso Tellez", "given": "", "middle": "R", "dob": DOB},
         {"family": "Alonso Tellez", "given": "Erin", "middle": "Rachel"}),
        # blank first name, garbled birth date, same street address
        ({"family": "Kofron", "given": "", "dob": date(1994, 5, 6),
          "address": ("5112 145th St", "98101")},
         {"family": "Kofron", "given": "Diana", "dob": date(1894, 5, 6),
          "address": ("5112 145th Street", "98101")}),
        # a typo in the surname and a blank first name: the birth date alone
        ({"family": "Castillo", "given": "", "dob": date(1970, 7, 27)},
         {"family": "Kastiyo", "given": "Derick", "dob": date(1970, 7, 27)}),
        # blank surname: the given name's sound and the middle initial
        ({"family": "", "given": "Heather", "middle": "S"},
         {"family": "Kingsley", "given": "Heather", "middle": "Sandra"}),
        # a slip in the SSN's first five, no birth date on either side
        ({"family": "Gray", "given": "Averie", "ssn": "537-41-9725"},
         {"family": "Greig", "given": "", "ssn": "573-41-9725"}),
    ],
)  # fmt: skip
def test_true_pairs_with_a_blank_or_garbled_field_are_still_compared(one, other):
    rows = [*_strangers(60), one, other]
    assert _compared(rows, 60, 61)


def test_a_middle_initial_is_compared_with_a_full_middle_name():
    t = table(
        {"family": "Castillo", "given": "Derick", "middle": "W"},
        {"family": "Castillo", "given": "Derick", "middle": "William"},
        {"family": "Castillo", "given": "Derick", "middle": "J"},
    )
    assert t.cols["middle_initial"][0] == ord("w")  # one letter is no placeholder
    assert pair_levels(MODEL, t, "middle_initial", 0, 1) == "same"
    assert pair_levels(MODEL, t, "middle_initial", 0, 2) == "different"


def test_a_slip_in_the_ssn_last_four_is_not_full_disagreement():
    t = table(
        {"family": "Ito", "ssn": "912-34-5678"},
        {"family": "Ito", "ssn": "912-34-5679"},  # one digit wrong
        {"family": "Ito", "ssn": "912-34-5768"},  # two neighbours swapped
        {"family": "Ito", "ssn": "912-34-1234"},
    )
    slip = "last four one slip apart (a digit or two swapped)"
    assert pair_levels(MODEL, t, "ssn", 0, 1) == slip
    assert pair_levels(MODEL, t, "ssn", 0, 2) == slip
    assert pair_levels(MODEL, t, "ssn", 0, 3) == "different"


def test_addresses_compare_beyond_exact():
    t = table(
        {"family": "Osei", "address": ("1501 Interlake Ave N", "98103")},
        {"family": "Osei", "address": ("1501 Interlaike Ave N", "98103")},
        {"family": "Osei", "address": ("1510 Interlake Ave N", "98103")},
        {"family": "Osei", "address": ("77 Pine St", "98103")},
    )
    assert pair_levels(MODEL, t, "address", 0, 1) == "same number, street sounds alike"
    assert pair_levels(MODEL, t, "address", 0, 2) == "same street, other number"
    assert pair_levels(MODEL, t, "address", 0, 3) == "same ZIP code"


def test_relatives_at_one_address_are_not_one_person_by_the_address():
    home = {"family": "Kofron", "address": ("5112 145th St", "98101")}
    t = table(
        {**home, "given": "Diana", "middle": "P", "dob": date(1994, 5, 6)},
        {**home, "given": "Anna", "middle": "A"},
        {**home, "given": "", "middle": "A"},  # first name left blank
        {**home, "given": "Paul", "middle": "J", "ssn": "321-78-7521"},
        {**home, "given": "Ruth", "middle": "E", "ssn": "321-78-7521"},  # parent's SSN
        {**home, "given": "Dianna", "middle": "P", "ssn": "321-78-7521"},
    )
    assert pair_levels(MODEL, t, "household", 0, 1) == "possible relatives"
    assert pair_levels(MODEL, t, "household", 0, 2) == "possible relatives"
    assert pair_levels(MODEL, t, "household", 3, 4) == (
        "possible relatives sharing an SSN (given and middle names differ)"
    )
    assert pair_levels(MODEL, t, "household", 0, 5) == "no household pattern"
    names = [c.name for c in MODEL.comparisons]
    scored = score(MODEL, t, np.array([0, 3]), np.array([1, 4]))
    assert scored.weights[0, names.index("address")] == 0.0
    assert scored.weights[1, names.index("ssn")] == 0.0
    assert scored.weights[1, names.index("address")] == 0.0


def test_bounds_hold_m_where_data_entry_says_and_the_rest_sums_to_one():
    levels = [
        Level("missing", "null"),
        Level("exact", "exact"),
        Level("close", "jaro_winkler"),
        Level("different", "else", params={"m_min": 0.02}),
    ]
    m = bounded_m(levels, [1, 2, 3], np.array([0.0, 0.9, 0.1, 0.0]))
    assert m[3] == 0.02
    assert m[1] + m[2] == pytest.approx(0.98)
    assert m[1] / m[2] == pytest.approx(9.0)


def _population() -> list[dict]:
    """Households registered at three places, as pseudopeople's census, Social
    Security and tax records are (issue 12): names, birth date and address at the
    first; names, birth date and SSN at the second; names, SSN and address at the
    third. One registration in ten has another first name (a nickname no list
    knows, a fake name) and one in twenty a mistyped birth date."""
    rows: list[dict] = []
    for h in range(300):
        family = f"{_FAMILY[h % 9]}{'abcdefghij'[h // 9 % 10]}{'klmnop'[h // 90 % 6]}"
        address = (f"{10 + h} {_FAMILY[(h * 7) % 9]} Ave", "98101")
        for k in range(3):  # a parent and two children
            i = h * 3 + k
            person = {
                "family": family,
                "middle": "ABCDEFGHJK"[i % 10],
                "given": f"{_GIVEN[i % 10]}{'aeiou'[i // 10 % 5]}{'nrst'[i // 50 % 4]}",
                "dob": date(1950 + 25 * (k > 0), 1, 1) + timedelta(days=k * 400 + h),
                "ssn": f"{101 + i % 800:03d}-{11 + i % 83:02d}-{1001 + i:04d}",
            }
            census = {**person, "address": address}
            census.pop("ssn")
            ssa = dict(person)
            tax = {**person, "address": address}
            tax.pop("dob")
            if i % 10 == 3:
                ssa["given"] = _GIVEN[(i + 5) % 10] + "ly"
            if i % 10 == 7:
                tax["given"] = _GIVEN[(i + 4) % 10] + "ton"
            if i % 20 == 11:
                ssa["dob"] = person["dob"] + timedelta(days=3000)
            rows += [census, ssa, tax]
    return rows


def test_training_keeps_a_shared_ssn_above_a_different_first_name():
    t = table(*_population())
    model = default_model()
    left, right, _ = candidate_pairs(model, t)
    train(model, t, left, right, seed=2, u_pairs=100_000, em_pairs=50_000)
    given = model.comparison("given_name").level("different")
    ssn = model.comparison("ssn")
    dob = model.comparison("birth_date").level("different")
    assert given.weight > -6  # unbounded: -16.5 bits here, -16.6 on pseudopeople
    assert ssn.level("same number").weight + given.weight > 5
    # unbounded: -0.7 and -1.7 bits here (-1.9 and -1.0 on pseudopeople)
    assert dob.weight < -4 and ssn.level("different").weight < -4
    # person 3's Social Security record has another first name: with the same
    # SSN as the tax record it is still the same person; the parent and the child
    # at one address are not
    scored = score(model, t, np.array([10, 0]), np.array([11, 3]))
    assert scored.probability[0] > 0.9
    assert scored.probability[1] < 0.01
