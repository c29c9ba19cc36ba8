"""Synthetic people and their patient records, with planted duplicates and twins.

`plan_people(seed, start, stop, as_of)` is pure: person i depends only on (seed, i),
and a twin pair is always persons (2k, 2k+1), so any even-aligned slice can be
generated alone (batches, resumed loads) and gives the same records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

from faker import Faker

from . import names as nm
from .places import BY_CODE, FACILITIES, FacilitySpec

DUPLICATE_RATE = 0.05
TWIN_PAIR_RATE = 0.012
ERRORS = (
    "typo", "nickname", "transposed-dob", "surname-change", "swapped-names",
    "missing-fields",
)  # fmt: skip
PAYERS = (
    ("urn:recordroom:demo:payer:lakeshore-health-plan", "LHP"),
    ("urn:recordroom:demo:payer:prairie-mutual", "PMI"),
    ("urn:recordroom:demo:payer:medicare-demo", "MCR"),
    ("urn:recordroom:demo:payer:medicaid-demo", "MCD"),
)  # fmt: skip
# (upper age bound, weight): hospital populations skew old
_AGE_BANDS = ((1, 3), (18, 14), (45, 28), (65, 27), (85, 22), (101, 6))


@dataclass
class NamePlan:
    family: str
    given: str
    middle: str = ""
    suffix: str = ""
    use: str = "legal"
    period_start: date | None = None
    period_end: date | None = None


@dataclass
class RecordPlan:
    """One patient record as registration created it (possibly with errors)."""

    person: int
    ordinal: int  # 0 the person's first record, 1 a duplicate registration
    relation: str
    names: list[NamePlan]
    birth_date: date
    sex: str
    mrns: dict[str, str]  # facility code -> MRN; the first is the primary
    gender_identity: str = ""
    deceased_date: date | None = None
    ssn: str = ""
    member: tuple[str, str] | None = None  # (system, member id)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    telecoms: list[dict[str, Any]] = field(default_factory=list)
    is_vip: bool = False
    is_employee: bool = False
    is_restricted: bool = False
    traits: frozenset[str] = frozenset()  # behavioural-health, substance-use, hiv
    encounters: list[Any] = field(default_factory=list)  # clinical.EncounterPlan
    loose_docs: list[Any] = field(
        default_factory=list
    )  # clinical.DocPlan, no encounter

    @property
    def person_id(self) -> str:
        return f"P{self.person:07d}"

    @property
    def legal(self) -> NamePlan:
        return next(n for n in self.names if n.use == "legal" and n.period_end is None)

    @property
    def primary_facility(self) -> str:
        return next(iter(self.mrns))


@cache
def _fakers() -> tuple[Faker, Faker]:
    return Faker("en_US"), Faker("es_MX")


def person_rng(seed: int, person: int) -> random.Random:
    return random.Random(f"recordroom-demo:{seed}:{person}")


def record_number(person: int, ordinal: int) -> int:
    """The registration number behind a record's MRN and account numbers.

    First registrations are sequential; a duplicate registration comes from a
    later, scattered range (a bijection of the person index), so neighbouring
    numbers never give a duplicate away.
    """
    if ordinal == 0:
        return 1_000_000 + person
    return 5_000_000 + (person * 7919) % 4_000_000


def mrn(facility: FacilitySpec, person: int, ordinal: int) -> str:
    return facility.mrn_format.format(record_number(person, ordinal))


def plan_people(seed: int, start: int, stop: int, as_of: date) -> list[RecordPlan]:
    """The patient records of persons [start, stop); `start` must be even."""
    if start % 2:
        raise ValueError(f"a slice of people starts at an even index, got {start}")
    out: list[RecordPlan] = []
    i = start
    while i < stop:
        rng = person_rng(seed, i)
        first = _person(rng, seed, i, as_of)
        if i % 2 == 0 and i + 1 < stop and rng.random() < TWIN_PAIR_RATE:
            second = _twin_of(first, person_rng(seed, i + 1), seed, i + 1)
            out += [first, second]
            i += 2
            continue
        out.append(first)
        if rng.random() < DUPLICATE_RATE:
            out.append(_duplicate(first, rng, rng.choice(ERRORS), as_of))
        i += 1
    return out


def _age(rng: random.Random) -> int:
    r, lower = rng.random() * sum(w for _, w in _AGE_BANDS), 0
    for upper, weight in _AGE_BANDS:
        if r < weight:
            return rng.randrange(lower, upper)
        r -= weight
        lower = upper
    return 100


def _given(rng: random.Random, culture: str, female: bool) -> str:
    en, es = _fakers()
    if culture == "hispanic":
        pool = nm.HISPANIC_GIVEN_F if female else nm.HISPANIC_GIVEN_M
        if rng.random() < 0.5:
            return rng.choice(pool)
        return es.first_name_female() if female else es.first_name_male()
    if culture == "asian":
        return rng.choice(nm.ASIAN_GIVEN_F if female else nm.ASIAN_GIVEN_M)
    if culture == "accented":
        return rng.choice(nm.ACCENTED_GIVEN_F if female else nm.ACCENTED_GIVEN_M)
    return en.first_name_female() if female else en.first_name_male()


def _family(rng: random.Random, culture: str) -> str:
    en, es = _fakers()
    if culture == "hispanic":
        return rng.choice(nm.HISPANIC_FAMILY) if rng.random() < 0.5 else es.last_name()
    if culture == "asian":
        return rng.choice(nm.ASIAN_FAMILY)
    if culture == "accented":
        return rng.choice(nm.ACCENTED_FAMILY)
    family = en.last_name()
    return f"{family}-{en.last_name()}" if rng.random() < 0.02 else family


def _culture(rng: random.Random) -> str:
    r = rng.random()
    return (
        "en"
        if r < 0.72
        else "hispanic"
        if r < 0.87
        else "asian"
        if r < 0.95
        else "accented"
    )


def _days_between(rng: random.Random, a: date, b: date) -> date:
    return a + timedelta(days=rng.randrange(max(1, (b - a).days)))


def _person(rng: random.Random, seed: int, i: int, as_of: date) -> RecordPlan:
    en, es = _fakers()
    en.seed_instance(rng.getrandbits(64))
    es.seed_instance(rng.getrandbits(64))
    r = rng.random()
    sex = (
        "female"
        if r < 0.51
        else "male"
        if r < 0.995
        else rng.choice(("other", "unknown"))
    )
    female = sex == "female" or (sex != "male" and rng.random() < 0.5)
    age = _age(rng)
    if i % 40 in (11, 17):  # the sprinkled substance-use and HIV patients are adults
        age = 18 + age % 70
    birth = as_of - timedelta(days=age * 365 + rng.randrange(365) + 1)
    culture = _culture(rng)
    legal = NamePlan(family=_family(rng, culture), given=_given(rng, culture, female))
    if rng.random() < 0.55 and age > 0:
        middle = _given(rng, culture, female)
        legal.middle = middle[0] if rng.random() < 0.15 else middle
    if sex == "male" and age >= 18 and rng.random() < 0.06:
        legal.suffix = rng.choice(("Jr.", "Jr.", "Sr.", "III"))
    names = [legal]
    if female and age >= 22 and rng.random() < 0.35:
        latest = min(as_of, birth + timedelta(days=45 * 365))
        married = _days_between(rng, birth + timedelta(days=20 * 365), latest)
        names.append(replace(legal, use="maiden", period_end=married))
        legal.family, legal.period_start = _family(rng, culture), married
        twice = married + timedelta(days=700) < as_of
        if twice and rng.random() < 0.2:  # married twice: the first name is history
            again = _days_between(rng, married + timedelta(days=700), as_of)
            names.append(replace(legal, use="previous", period_end=again))
            legal.family, legal.period_start = _family(rng, culture), again
    elif rng.random() < 0.02:
        names.append(NamePlan(family=legal.family, given=en.first_name(), use="alias"))
    facilities = _facilities(rng)
    home = BY_CODE[facilities[0]]
    plan = RecordPlan(
        person=i, ordinal=0, relation="original", names=names, birth_date=birth, sex=sex,
        mrns={code: mrn(BY_CODE[code], i, 0) for code in facilities},
    )  # fmt: skip
    if sex == "other" or rng.random() < 0.004:
        plan.gender_identity = rng.choice(
            ("non-binary", "transgender woman", "transgender man")
        )
    plan.addresses = _addresses(rng, home, birth, as_of)
    plan.telecoms = _telecoms(rng, home, legal, age)
    if age >= 1 and rng.random() < 0.88:
        plan.ssn = _ssn(rng)
    if rng.random() < 0.62:
        commercial = [p for p in PAYERS if "medicare" not in p[0]]
        system, prefix = PAYERS[2] if age >= 65 else rng.choice(commercial)
        plan.member = (system, f"{prefix}{rng.randrange(10**9):09d}")
    death_risk = 0.004 + (0.07 if age >= 75 else 0.0)
    if rng.random() < death_risk:
        plan.deceased_date = as_of - timedelta(days=rng.randrange(5, 900))
        if plan.deceased_date <= birth:
            plan.deceased_date = None
    plan.is_vip = rng.random() < 0.005
    plan.is_employee = age >= 18 and rng.random() < 0.02
    plan.is_restricted = rng.random() < 0.008
    plan.traits = _traits(rng, i, age)
    return plan


def _traits(rng: random.Random, i: int, age: int) -> frozenset[str]:
    # Rates plus a fixed sprinkle (every 40 people), so even a small demo holds each
    # kind of sensitive record.
    traits = set()
    if rng.random() < 0.04 or i % 40 == 5:
        traits.add("behavioural-health")
    if age >= 14 and (rng.random() < 0.03 or i % 40 == 11):
        traits.add("substance-use")
    if age >= 14 and (rng.random() < 0.012 or i % 40 == 17):
        traits.add("hiv")
    return frozenset(traits)


def _facilities(rng: random.Random) -> tuple[str, ...]:
    r = rng.random()
    if r < 0.10:
        return ("NORTH", "SOUTH") if rng.random() < 0.6 else ("SOUTH", "NORTH")
    return ("NORTH",) if r < 0.62 else ("SOUTH",)


def _street(rng: random.Random) -> tuple[str, str]:
    en, _ = _fakers()
    street = en.street_address()
    for marker in (" Apt. ", " Suite "):
        if marker in street:
            line1, rest = street.split(marker, 1)
            return line1, f"{marker.strip()} {rest}"
    return street, ""


def _addresses(
    rng: random.Random, home: FacilitySpec, birth: date, as_of: date
) -> list[dict[str, Any]]:
    line1, line2 = _street(rng)
    city, state, zip_code = rng.choice(home.towns)
    current: dict[str, Any] = {
        "use": "home", "line1": line1, "line2": line2, "city": city, "state": state,
        "postal_code": zip_code,
    }  # fmt: skip
    if rng.random() >= 0.3 or (as_of - birth).days < 400:
        return [current]
    moved = _days_between(rng, max(birth, as_of - timedelta(days=3650)), as_of)
    old1, old2 = _street(rng)
    city, state, zip_code = rng.choice(home.towns)
    old = {
        "use": "home", "line1": old1, "line2": old2, "city": city, "state": state,
        "postal_code": zip_code, "period_end": moved,
    }  # fmt: skip
    current["period_start"] = moved
    return [current, old]


def _phone(rng: random.Random, home: FacilitySpec) -> str:
    # The 555 exchange is all but unassigned (555-01XX is reserved for fiction, but
    # 100 numbers per area code would make strangers share phones and fool matching).
    return f"{rng.choice(home.area_codes)}-555-{rng.randrange(10000):04d}"


def _telecoms(
    rng: random.Random, home: FacilitySpec, legal: NamePlan, age: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if rng.random() < 0.92:
        out.append({"system": "phone", "use": "home", "value": _phone(rng, home)})
    if age >= 12 and rng.random() < 0.55:
        out.append({"system": "phone", "use": "mobile", "value": _phone(rng, home)})
    if age >= 14 and rng.random() < 0.5:
        local = nm.strip_accents(f"{legal.given}.{legal.family}").lower()
        local = "".join(c for c in local if c.isalnum() or c == ".")
        domain = rng.choice(("example.com", "example.org", "example.net"))
        out.append(
            {
                "system": "email",
                "use": "home",
                "value": f"{local}{rng.randrange(100)}@{domain}",
            }
        )
    return out


def _ssn(rng: random.Random) -> str:
    # Area numbers 900-999 are never issued by the SSA: no real person has these.
    return f"{rng.randrange(900, 1000)}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def _twin_of(first: RecordPlan, rng: random.Random, seed: int, i: int) -> RecordPlan:
    """A twin: same surname, birth date, address and home phone; another person."""
    en, es = _fakers()
    en.seed_instance(rng.getrandbits(64))
    es.seed_instance(rng.getrandbits(64))
    first.relation = "twin"
    sex = rng.choice(("female", "male"))
    culture = (
        "hispanic" if any(c in first.legal.family for c in "áéíóúñÁÉÍÓÚÑ") else "en"
    )
    given = first.legal.given
    while nm.strip_accents(given)[:3] == nm.strip_accents(first.legal.given)[:3]:
        given = _given(rng, culture, sex == "female")
    twin = RecordPlan(
        person=i, ordinal=0, relation="twin",
        names=[NamePlan(family=first.legal.family, given=given)],
        birth_date=first.birth_date, sex=sex,
        mrns={code: mrn(BY_CODE[code], i, 0) for code in first.mrns},
        addresses=[dict(a) for a in first.addresses],
        telecoms=[dict(t) for t in first.telecoms if t["use"] == "home"],
        member=(first.member[0], f"{first.member[1][:3]}{rng.randrange(10**9):09d}")
        if first.member else None,
        traits=_traits(rng, i, 0),
    )  # fmt: skip
    if first.ssn:
        twin.ssn = _ssn(rng)
    return twin


def _duplicate(
    first: RecordPlan, rng: random.Random, error: str, as_of: date
) -> RecordPlan:
    """A second registration of the same person, carrying one realistic error."""
    legal = replace(first.legal, period_start=None)
    where = rng.choice(FACILITIES).code
    dup = replace(
        first, ordinal=1, relation=f"duplicate:{error}", names=[legal],
        mrns={where: mrn(BY_CODE[where], first.person, 1)},
        addresses=[dict(first.addresses[0])], telecoms=[dict(t) for t in first.telecoms],
        is_vip=False, is_employee=False, is_restricted=False, encounters=[], loose_docs=[],
        member=first.member if rng.random() < 0.5 else None,
    )  # fmt: skip
    if error == "nickname" and nm.nickname(rng, legal.given) is None:
        error = "typo"
    if error == "surname-change" and len(first.names) > 1:
        dup.names = [replace(n, use="legal", period_end=None) for n in first.names[1:2]]
    elif error == "surname-change":
        en, _ = _fakers()
        legal.family = en.last_name()
    elif error == "typo":
        if rng.random() < 0.5:
            legal.family = nm.typo(rng, legal.family)
        else:
            legal.given = nm.typo(rng, legal.given)
    elif error == "nickname":
        legal.given = nm.nickname(rng, legal.given) or legal.given
        legal.middle = ""
    elif error == "transposed-dob":
        dup.birth_date = _transpose(rng, first.birth_date, as_of)
    elif error == "swapped-names":
        legal.family, legal.given = first.legal.given, first.legal.family
        legal.middle = ""
    elif error == "missing-fields":
        dup.ssn, dup.member, dup.addresses, dup.telecoms = "", None, [], []
        legal.middle = ""
    return dup


def _transpose(rng: random.Random, born: date, as_of: date) -> date:
    """Swap two digits of MMDDYYYY (or month and day) to another valid past date."""
    text = born.strftime("%m%d%Y")
    options = [(0, 1), (2, 3), (6, 7), (4, 6)]
    rng.shuffle(options)
    for a, b in options:
        chars = list(text)
        chars[a], chars[b] = chars[b], chars[a]
        candidate = "".join(chars)
        try:
            out = date(int(candidate[4:]), int(candidate[:2]), int(candidate[2:4]))
        except ValueError:
            continue
        if out != born and out <= as_of:
            return out
    if born.day <= 12 and born.day != born.month:
        return date(born.year, born.day, born.month)
    return born + timedelta(days=9 if born.day < 19 else -9)
