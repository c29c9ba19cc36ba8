"""Encounters and the documents each one produces, planned for one patient record.

Pure functions of (seed, person, record ordinal, as_of): no database, no files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .people import RecordPlan, record_number
from .places import BY_CODE, TIMEZONE, ProviderSpec, providers_for
from .problems import BY_KEY, Problem, fitting

ZONE = ZoneInfo(TIMEZONE)
MAX_ENCOUNTERS = 40
CLASS_WEIGHTS = (("AMB", 45), ("EMER", 18), ("IMP", 14), ("OBSENC", 6), ("VR", 17))
TRANSFER_DISPOSITIONS = {"02", "03", "62"}
UNSIGNED_RATE = 0.07  # documents needing a signature that are left unsigned
SCAN_OFTEN = {"59284-0", "CORR"}  # half on paper, half signed electronically


@dataclass
class DocPlan:
    index: (
        int  # within the patient record: (seed, person, ordinal, index) seeds its text
    )
    code: str
    service_start: datetime
    author: ProviderSpec | None
    created_at: datetime
    signed_at: datetime | None = None
    status: str = "final"
    source: str = "interface"
    scanned: bool = False
    labels: tuple[str, ...] = ()  # beyond the document type's defaults (e.g. HIV)
    service_end: datetime | None = None
    facility: str = ""  # set for documents filed without an encounter


@dataclass
class EncounterPlan:
    ordinal: int
    facility: str
    account: str
    cls: str
    problem: Problem
    admit: datetime
    discharge: datetime | None
    location: str
    disposition: str
    attending: ProviderSpec
    admitting: ProviderSpec | None
    consultants: list[ProviderSpec] = field(default_factory=list)
    labels: tuple[str, ...] = ()
    docs: list[DocPlan] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "finished" if self.discharge else "in-progress"


def now_for(as_of: date) -> datetime:
    """The demo's 'now': midnight at the start of `as_of`, facility time."""
    return datetime.combine(as_of, time(0, 0), ZONE).astimezone(UTC)


def clinical_rng(seed: int, record: RecordPlan) -> random.Random:
    return random.Random(
        f"recordroom-demo-clinical:{seed}:{record.person}:{record.ordinal}"
    )


def plan_clinical(seed: int, record: RecordPlan, as_of: date) -> None:
    """Fill `record.encounters` and `record.loose_docs`."""
    rng = clinical_rng(seed, record)
    now = now_for(as_of)
    end = (
        now
        if record.deceased_date is None
        else min(now, _local(record.deceased_date, 12))
    )
    start = max(_local(record.birth_date, 8), now - timedelta(days=5 * 365))
    if end <= start + timedelta(days=1):
        start = end - timedelta(days=1)
    count = 1 + min(MAX_ENCOUNTERS - 1, int(rng.expovariate(1 / 4.6)))
    if record.ordinal:
        count = 1 + (rng.random() < 0.3)
    span = (end - start).total_seconds()
    moments = sorted(
        start + timedelta(seconds=rng.random() * span) for _ in range(count)
    )
    age_now = (as_of - record.birth_date).days // 365
    special = _special_visits(record, rng, count)
    for j, moment in enumerate(moments):
        facility = rng.choice(list(record.mrns))
        age = max(0, age_now - (now - moment).days // 365)
        enc = _encounter(rng, record, j, facility, moment, age, now, special.get(j))
        if record.deceased_date and enc.discharge and enc.discharge > end:
            enc.discharge, enc.disposition = max(end, enc.admit), "20"  # died in care
        elif record.deceased_date and j == count - 1 and enc.cls in ("IMP", "EMER"):
            enc.disposition = "20" if rng.random() < 0.5 else enc.disposition
        record.encounters.append(enc)
    doc_index = 0
    for enc in record.encounters:
        for doc in _documents(rng, record, enc, now):
            doc.index = doc_index
            doc_index += 1
            enc.docs.append(doc)
    # Rates plus a fixed sprinkle, so even a small demo holds each kind of paper.
    for code, rate, every in (("AUTH", 0.04, 23), ("CORR", 0.03, 29)):
        sprinkle = record.ordinal == 0 and record.person % 40 == every
        if (rng.random() < rate or sprinkle) and record.encounters:
            last = record.encounters[-1]
            when = min(
                now - timedelta(hours=2), last.admit + timedelta(days=rng.randrange(60))
            )
            doc = _doc(rng, code, when, None, now, index=doc_index)
            doc.facility = last.facility
            record.loose_docs.append(doc)
            doc_index += 1


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), ZONE).astimezone(UTC)


def _special_visits(
    record: RecordPlan, rng: random.Random, count: int
) -> dict[int, str]:
    """Which encounters are behavioural-health, substance-use or HIV visits."""
    out: dict[int, str] = {}
    for trait, keys in (
        ("behavioural-health", ("depression", "anxiety")),
        ("substance-use", ("oud", "aud")),
        ("hiv", ("hiv",)),
    ):
        if trait in record.traits:
            out[rng.randrange(count)] = rng.choice(keys)
    return out


def _pick_class(rng: random.Random) -> str:
    r = rng.random() * 100
    for cls, weight in CLASS_WEIGHTS:
        if r < weight:
            return cls
        r -= weight
    return "AMB"


def _encounter(
    rng: random.Random, record: RecordPlan, j: int, facility: str, admit: datetime,
    age: int, now: datetime, special: str | None,
) -> EncounterPlan:  # fmt: skip
    if special:
        problem = BY_KEY[special]
        cls = (
            "VR"
            if special in ("depression", "anxiety") and rng.random() < 0.5
            else "AMB"
        )
    else:
        cls = _pick_class(rng)
        options = fitting(cls, age, record.sex) or [BY_KEY["pneumonia"]]
        problem = rng.choice(options)
    hours = {
        "IMP": rng.uniform(24, 240), "OBSENC": rng.uniform(8, 40), "EMER": rng.uniform(2, 8),
        "AMB": rng.uniform(0.3, 1.0), "VR": rng.uniform(0.25, 0.75),
    }[cls]  # fmt: skip
    if cls in ("AMB", "VR"):  # clinic hours, facility time
        local = admit.astimezone(ZONE)
        minutes = rng.randrange(8 * 60, 16 * 60 + 30, 5)
        admit = datetime.combine(local.date(), time(minutes // 60, minutes % 60), ZONE)
        admit = admit.astimezone(UTC)
        while admit + timedelta(hours=hours) >= now:
            admit -= timedelta(days=1)
    admit = _minute(admit)
    discharge: datetime | None = _minute(admit + timedelta(hours=hours))
    if discharge is not None and discharge >= now:
        if cls == "IMP":
            discharge = None  # still in hospital
        else:
            admit = _minute(now - timedelta(hours=hours + 1))
            discharge = _minute(admit + timedelta(hours=hours))
    spec = BY_CODE[facility]
    number = record_number(record.person, record.ordinal) * 64 + j
    attending = _attending(rng, cls, problem, facility, age)
    enc = EncounterPlan(
        ordinal=j, facility=facility, account=f"{spec.account_prefix}{number:09d}", cls=cls,
        problem=problem, admit=admit, discharge=discharge,
        location=_location(rng, cls, problem, facility), disposition=_disposition(rng, cls),
        attending=attending, admitting=attending if cls in ("IMP", "OBSENC") else None,
    )  # fmt: skip
    if cls in ("IMP", "OBSENC") and problem.specialty and rng.random() < 0.6:
        enc.consultants = [rng.choice(providers_for(problem.specialty, facility))]
    if problem.key in ("oud", "aud"):
        enc.labels = ("ETH", "SUD")
    if problem.key == "hiv":
        enc.labels = ("HIV",)
    return enc


def _attending(
    rng: random.Random, cls: str, problem: Problem, facility: str, age: int
) -> ProviderSpec:
    if cls == "EMER":
        specialty = "Emergency medicine"
    elif cls in ("IMP", "OBSENC"):
        specialty = "Pediatrics" if age < 16 else "Hospital medicine"
        if problem.procedure and problem.specialty:
            specialty = problem.specialty
    elif problem.key in ("depression", "anxiety"):
        specialty = "Psychiatry"
    elif problem.specialty:
        specialty = problem.specialty
    else:
        specialty = "Pediatrics" if age < 16 else rng.choice(
            ("Family medicine", "Internal medicine")
        )  # fmt: skip
    return rng.choice(providers_for(specialty, facility))


def _location(rng: random.Random, cls: str, problem: Problem, facility: str) -> str:
    if cls == "IMP":
        floor = rng.randrange(3, 7)
        unit = rng.choice(("East", "West", "North", "South"))
        if rng.random() < 0.1:
            return f"ICU Bed {rng.randrange(1, 20)}"
        return f"{floor} {unit} {floor * 100 + rng.randrange(1, 40)}-{rng.choice('AB')}"
    if cls == "EMER":
        return f"ED Bay {rng.randrange(1, 24)}"
    if cls == "OBSENC":
        return "Observation Unit"
    if cls == "VR":
        return "Telehealth"
    clinic = problem.specialty or rng.choice(("Primary Care", "Internal Medicine"))
    return f"{clinic} Clinic"


def _disposition(rng: random.Random, cls: str) -> str:
    if cls not in ("IMP", "OBSENC", "EMER"):
        return ""
    r = rng.random()
    if cls == "EMER":
        return "01" if r < 0.9 else "07" if r < 0.95 else "02"
    for code, upto in (
        ("01", 0.7),
        ("06", 0.8),
        ("03", 0.88),
        ("62", 0.93),
        ("07", 0.96),
    ):
        if r < upto:
            return code
    return "50"


def _documents(
    rng: random.Random, record: RecordPlan, enc: EncounterPlan, now: datetime
) -> list[DocPlan]:
    p, cls, fac = enc.problem, enc.cls, enc.facility
    out: list[DocPlan] = []
    t0 = enc.admit
    t_end = enc.discharge or now - timedelta(hours=1)

    def add(code: str, at: datetime, author: ProviderSpec | None, **kw: Any) -> DocPlan:
        at = _minute(min(at, now - timedelta(minutes=30)))
        doc = _doc(rng, code, at, author, now, **kw)
        out.append(doc)
        return doc

    def one(specialty: str) -> ProviderSpec:
        return rng.choice(providers_for(specialty, fac))

    lab_rate = {"IMP": 0.35, "OBSENC": 0.3, "EMER": 0.3, "AMB": 0.2, "VR": 0.0}[cls]
    if cls in ("IMP", "OBSENC"):
        add("34117-2", t0 + timedelta(hours=rng.uniform(1, 5)), enc.attending)
        if (t_end - t0).days >= 3 or rng.random() < 0.3:
            add("11506-3", t0 + timedelta(hours=rng.uniform(20, 30)), enc.attending)
        if cls == "IMP" and rng.random() < 0.2:
            add(
                "34746-8",
                t0 + timedelta(hours=rng.uniform(6, 12)),
                None,
                source="native",
            )
        if enc.consultants and rng.random() < 0.6:
            add("11488-4", t0 + timedelta(hours=rng.uniform(8, 30)), enc.consultants[0])
        if p.procedure and cls == "IMP":
            surgeon = enc.consultants[0] if enc.consultants else enc.attending
            op_at = t0 + timedelta(hours=rng.uniform(6, 20))
            add("59284-0", op_at - timedelta(hours=2), None)
            add("11504-8", op_at + timedelta(hours=2), surgeon)
            if p.key in ("appendicitis", "cholecystitis", "gi-bleed"):
                add("11526-1", op_at + timedelta(hours=30), one("Pathology"))
        if (
            enc.discharge and rng.random() < 0.95
        ):  # the rest are missing: chart completion
            add(
                "18842-5",
                enc.discharge + timedelta(hours=rng.uniform(0, 30)),
                enc.attending,
            )
        if enc.discharge and enc.disposition in TRANSFER_DISPOSITIONS:
            add("18761-7", enc.discharge - timedelta(hours=1), enc.attending)
    elif cls == "EMER":
        add("34111-5", t0 + timedelta(hours=rng.uniform(1, 3)), enc.attending)
        if p.procedure:
            add("28570-0", t0 + timedelta(hours=rng.uniform(1, 2)), enc.attending)
    elif p.key in ("depression", "anxiety"):
        add("11506-3", t0 + timedelta(minutes=50), enc.attending)
        add("PSYTHPN", t0 + timedelta(minutes=55), one("Clinical psychology"))
    elif p.key in ("oud", "aud"):
        add("SUDTX", t0 + timedelta(minutes=45), enc.attending, labels=("ETH", "SUD"))
        lab_rate = 0.0
    else:
        code = "11488-4" if p.specialty and rng.random() < 0.3 else "11506-3"
        add(code, t0 + timedelta(minutes=40), enc.attending)
        if cls == "AMB" and p.procedure and rng.random() < 0.5:
            add("28570-0", t0 + timedelta(minutes=30), enc.attending)
        if cls == "AMB" and rng.random() < 0.1:
            add("57133-1", t0 - timedelta(days=rng.randrange(3, 30)),
                one(rng.choice(("Family medicine", "Internal medicine"))),
                scanned=rng.random() < 0.4)  # fmt: skip
        if rng.random() < 0.04:
            add("CORR", t0 + timedelta(days=rng.randrange(1, 10)), enc.attending)
    if p.imaging and rng.random() < (0.35 if cls != "AMB" else 0.12):
        add("18748-4", t0 + timedelta(hours=rng.uniform(1, 4)), one("Radiology"))
    if p.labs and rng.random() < lab_rate or p.key == "hiv":
        labels = ("HIV",) if p.key == "hiv" else ()
        add("11502-2", t0 + timedelta(hours=rng.uniform(0.5, 3)), one("Pathology"),
            labels=labels)  # fmt: skip
    return out


def _doc(
    rng: random.Random, code: str, at: datetime, author: ProviderSpec | None,
    now: datetime, *, index: int = 0, source: str = "interface", scanned: bool = False,
    labels: tuple[str, ...] = (),
) -> DocPlan:  # fmt: skip
    scanned = scanned or code == "AUTH" or (code in SCAN_OFTEN and rng.random() < 0.5)
    created = min(now - timedelta(minutes=5), at + timedelta(hours=rng.uniform(0.1, 6)))
    created = _minute(created)
    doc = DocPlan(
        index=index, code=code, service_start=at, author=author, created_at=created,
        source="scan" if scanned else source, scanned=scanned, labels=labels,
    )  # fmt: skip
    if author is not None and code in SIGNED_TYPES:
        if rng.random() < UNSIGNED_RATE:
            doc.status = "preliminary" if rng.random() < 0.7 else "final"
        else:
            signed = _minute(created + timedelta(hours=rng.uniform(0.5, 96)))
            doc.signed_at = min(signed, now - timedelta(minutes=1))
    return doc


def _signed_types() -> frozenset[str]:
    from recordroom.records.doctypes import SEED

    return frozenset(code for _s, code, _d, _c, _l, signed in SEED if signed)


SIGNED_TYPES = _signed_types()
