"""The patient linkage model before training: comparisons, levels with starting
m/u guesses, guards, and blocking rules. Training (estimate.py) replaces the m and u
of every level not marked fixed."""

from __future__ import annotations

from typing import Any

from .model import BlockingRule, Comparison, Level, LinkageModel

MODEL_NAME = "patient-v1"
# What a household shares (families share a phone, an address, even an e-mail): under a guard (twins, Jr./Sr.) agreement here is not
# evidence that the two records are one person, so it is discounted to zero.
HOUSEHOLD = ("address", "phone", "email", "identifiers")
# People move, change numbers and insurers: however rarely the training data shows
# it, a true match disagrees on contact details at least this often.
CHANGES = 0.05
# Bounds on m that training keeps (estimate.bounded_m): a true match has a name
# that differs entirely at least this often, and a birth date or an SSN that
# differs past a keying slip at most this often (issue 12: unbounded, EM learnt
# "same name" and weighed a different birth date or SSN as almost nothing).
NAME_CHANGES = 0.02
IDENTIFIER_ERRORS = 0.03


def _lv(label: str, kind: str, m: float | None = None, u: float | None = None,
        **params: Any) -> Level:  # fmt: skip
    tf = bool(params.pop("tf", False))
    fixed = bool(params.pop("fixed", False))
    return Level(label=label, kind=kind, m=m, u=u, params=params, tf=tf, fixed=fixed)


def _name(field: str, nickname: bool) -> list[Level]:
    # Swapped names are one slip seen by both name comparisons: it is weighed once,
    # under the given name; the surname level is fixed at zero weight.
    swapped = (
        _lv("swapped with the other name", "swapped", 0.01, 0.00001)
        if nickname
        else _lv("swapped (weighed under given name)", "swapped", 1.0, 1.0, fixed=True)
    )
    levels = [
        _lv("missing", "null", field=field),
        _lv("exact", "exact", 0.85, 0.002, field=field, scope="current", tf=True),
        _lv("exact (history or part)", "exact", 0.05, 0.002, field=field),
    ]
    if nickname:
        levels.append(_lv("nickname", "nickname", 0.03, 0.001, field=field))
    levels += [
        swapped,
        _lv("close (Jaro-Winkler >= 0.92)", "jaro_winkler", 0.04, 0.003, field=field,
            threshold=0.92),
        _lv("sounds alike", "phonetic", 0.01, 0.005, field=field),
        _lv("similar (Jaro-Winkler >= 0.80)", "jaro_winkler", 0.01, 0.05, field=field,
            threshold=0.80),
    ]  # fmt: skip
    if nickname:
        levels.append(_lv("initial", "initial", 0.005, 0.02, field=field))
    # a name replaced, garbled past recognition or changed (marriage) is common
    # enough that a different name cannot outweigh a shared SSN (issue 12)
    levels.append(_lv("different", "else", 0.02, 0.9, m_min=NAME_CHANGES))
    return levels


def comparisons() -> list[Comparison]:
    return [
        Comparison("given_name", "Given names: legal, aliases, nicknames, initials",
                   _name("given", nickname=True)),
        Comparison("family_name", "Surnames: legal, previous, maiden, hyphen parts",
                   _name("family", nickname=False)),
        Comparison("birth_date", "Date of birth, with the keying errors clerks make", [
            _lv("missing", "null", field="dob"),
            _lv("exact", "exact", 0.93, 0.00004, field="dob"),
            _lv("two digits transposed or day/month swapped", "date_transposed",
                0.03, 0.00005),
            _lv("year off by one", "date_year_off", 0.01, 0.0003),
            _lv("one digit off", "date_one_digit", 0.02, 0.0005),
            _lv("different", "else", 0.01, 0.999, m_max=IDENTIFIER_ERRORS),
        ]),
        Comparison("middle_initial", "Middle initial (a full middle name by its "
                   "initial)", [
            _lv("missing", "null", field="middle_initial"),
            _lv("same", "exact", 0.9, 0.08, field="middle_initial"),
            _lv("different", "else", 0.1, 0.92, m_min=NAME_CHANGES),
        ]),
        Comparison("sex", "Administrative sex (unknown is missing)", [
            _lv("missing", "null", field="sex"),
            _lv("same", "exact", 0.97, 0.5, field="sex"),
            _lv("different", "else", 0.03, 0.5),
        ]),
        Comparison("ssn", "Social Security number, compared by keyed hash and last four", [
            _lv("missing", "null", field="ssn"),
            _lv("same number", "exact", 0.97, 0.000001, field="ssn"),
            _lv("last four agree, number differs", "last4", 0.01, 0.0001,
                m_max=IDENTIFIER_ERRORS),
            _lv("last four one slip apart (a digit or two swapped)", "last4_slip",
                0.01, 0.004, m_max=IDENTIFIER_ERRORS),
            _lv("different", "else", 0.02, 0.9999, m_max=IDENTIFIER_ERRORS),
        ]),
        Comparison("phone", "Phone numbers, current and past", [
            _lv("missing", "null", field="phone"),
            _lv("same number", "exact", 0.8, 0.0001, field="phone"),
            _lv("same local number, other area code", "last7", 0.02, 0.0002),
            _lv("different", "else", 0.18, 0.9997, m_min=CHANGES),
        ]),
        Comparison("email", "E-mail addresses", [
            _lv("missing", "null", field="email"),
            _lv("same address", "exact", 0.85, 0.00001, field="email"),
            _lv("different", "else", 0.15, 0.99999, m_min=CHANGES),
        ]),
        Comparison("address", "Normalised street addresses, current and past", [
            _lv("missing", "null", field="address"),
            _lv("same current address", "exact", 0.8, 0.0001, field="address",
                scope="current"),
            _lv("same address (one of them past)", "exact", 0.05, 0.0001,
                field="address"),
            _lv("same street address, other unit", "exact", 0.03, 0.0002, field="street"),
            _lv("same number, street sounds alike", "exact", 0.02, 0.0002,
                field="address_sound"),
            _lv("same street, other number", "exact", 0.02, 0.002, field="street_name"),
            _lv("same ZIP code", "exact", 0.05, 0.05, field="zip"),
            _lv("different", "else", 0.07, 0.95, m_min=CHANGES),
        ]),
        Comparison("identifiers", "Other identifiers (insurance member id, licence, "
                   "enterprise id) issued by the same authority", [
            _lv("same identifier", "exact", 0.6, 0.00001, field="ident"),
            _lv("none from a common authority", "null", test="no_common_system"),
            _lv("different", "else", 0.4, 0.99999),
        ]),
        Comparison("multiple_birth", "Guard: same birth date and surname, no shared "
                   "SSN, unrelated given names or different sexes looks like twins; "
                   "what the household shares is discounted (fixed, not estimated)", [
            _lv("possible twins", "twin_pattern", 0.0001, 0.1, fixed=True, threshold=0.9,
                discount=list(HOUSEHOLD)),
            _lv("no twin pattern", "else", 1.0, 1.0, fixed=True),
        ]),
        Comparison("household", "Guard: same surname, no shared SSN, given names "
                   "that are not one name looks like a relative; what the household "
                   "shares is discounted (fixed, not estimated)", [
            _lv("possible relatives sharing an SSN (given and middle names differ)",
                "household_pattern", 1.0, 1.0, fixed=True, threshold=0.9,
                shared_ssn=True, discount=[*HOUSEHOLD, "ssn"]),
            _lv("possible relatives", "household_pattern", 1.0, 1.0, fixed=True,
                threshold=0.9, discount=list(HOUSEHOLD)),
            _lv("no household pattern", "else", 1.0, 1.0, fixed=True),
        ]),
        Comparison("generation", "Guard: Jr. and Sr. are two people (fixed)", [
            _lv("generational suffixes differ", "generation", 0.0001, 0.1, fixed=True,
                discount=list(HOUSEHOLD)),
            _lv("no conflict", "else", 1.0, 1.0, fixed=True),
        ]),
    ]  # fmt: skip


def blocking_rules() -> list[BlockingRule]:
    return [
        BlockingRule("same SSN", "ssn", cap=20),
        BlockingRule("same other identifier", "ident", cap=20),
        BlockingRule("same e-mail", "email", cap=20),
        BlockingRule("birth date + surname sound", "dob_family", cap=100,
                     fallback="dob_family_given_initial"),
        BlockingRule("birth date + given name (nicknames as formal)", "dob_given",
                     cap=100, fallback="dob_given_family_initial"),
        BlockingRule("both names, either order", "name_pair", cap=15,
                     fallback="name_pair_dob_digits"),
        BlockingRule("phone + first initial + birth year", "phone_initial_year",
                     cap=10, fallback="phone_initial_month"),
        BlockingRule("street address + first initial", "street_initial", cap=10,
                     fallback="street_initial_year"),
        # what still compares a true pair with a blank or garbled name or birth date
        BlockingRule("birth date alone", "dob_alone", cap=20, fallback="with_sex"),
        BlockingRule("surname sound + middle initial", "family_middle", cap=30,
                     fallback="with_sex"),
        BlockingRule("given name sound + middle initial", "given_middle", cap=15,
                     fallback="with_sex"),
        BlockingRule("street address + surname sound", "street_family", cap=20,
                     fallback="with_given_initial"),
        BlockingRule("SSN last four + surname initial", "last4_initial", cap=20,
                     fallback="with_given_initial"),
    ]  # fmt: skip


def default_model() -> LinkageModel:
    return LinkageModel(
        name=MODEL_NAME,
        prior=1e-6,
        comparisons=comparisons(),
        blocking=blocking_rules(),
        training={"trained": False},
    )
