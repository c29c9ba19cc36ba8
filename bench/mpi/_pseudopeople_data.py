"""pseudopeople's bundled sample population registered at three facilities: the
2020 decennial census, Social Security and W-2/1099 tax records of the same
simulated people, each row a patient record, loaded through the demo's bulk path
(`demo.rows.write_batch`, as bench/mpi/_population.py does) with a ground truth
keyed on pseudopeople's `simulant_id`.

| facility | pseudopeople dataset | what a record holds |
|---|---|---|
| CEN | `generate_decennial_census` | name, middle initial, birth date, sex, address |
| SSA | `generate_social_security` | name, middle name, birth date, sex, SSN |
| TAX | `generate_taxes_w2_and_1099` | name, middle initial, SSN, mailing address |

No dataset holds all four of name, birth date, SSN and address: the pairs across
facilities share two or three of them, as registrations from different sources do.
One record per simulant per dataset (the first row: Social Security's creation
event, a person's first W-2). A value a registration clerk could not enter (a
birth date that is no date, or in the future; an SSN without nine digits) is left
out of the record and counted; a blank surname is registered as UNKNOWN, a
placeholder the engine treats as missing.
"""

from __future__ import annotations

import csv
import json
import re
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

YEAR = 2020
HIGH_CELL_PROBABILITY = 0.05
NOISE_HELP = (
    "default: pseudopeople's default configuration (cell probabilities 0.0-0.01 per "
    "noise type, typo token probability 0.1); high: every column noise type of the "
    f"three datasets at cell_probability {HIGH_CELL_PROBABILITY} (five times the "
    "usual default, and SSA's SSN noise switched on), token probabilities and row "
    "noise left at their defaults"
)
FACILITIES = (
    ("CEN", "Census Street Clinic", "decennial_census", "generate_decennial_census"),
    ("SSA", "Benefits Road Hospital", "social_security", "generate_social_security"),
    ("TAX", "Payroll Avenue Health", "taxes_w2_and_1099", "generate_taxes_w2_and_1099"),
)  # fmt: skip
_SSN = re.compile(r"^\d{3}-?\d{2}-?\d{4}$")
BATCH = 2_000


def config(noise: str) -> dict[str, Any] | None:
    """pseudopeople's configuration for `noise` (None: its defaults)."""
    if noise == "default":
        return None
    if noise != "high":
        raise SystemExit(f"--noise is default or high, got {noise!r}")
    import pseudopeople as psp

    full = psp.get_config()
    out: dict[str, Any] = {}
    for _code, _name, dataset, _fn in FACILITIES:
        columns: dict[str, Any] = {}
        for column, kinds in full[dataset]["column_noise"].items():
            columns[column] = {
                kind: {**params, "cell_probability": HIGH_CELL_PROBABILITY}
                for kind, params in kinds.items()
            }
        out[dataset] = {"column_noise": columns}
    return out


def generate(noise: str, seed: int) -> dict[str, Any]:
    """The three datasets (pandas frames), one row per simulant each."""
    import pseudopeople as psp

    conf = config(noise)
    frames = {}
    for code, _name, _dataset, fn in FACILITIES:
        df = getattr(psp, fn)(seed=seed, config=conf, year=YEAR)
        frames[code] = df.drop_duplicates("simulant_id", keep="first")
    return frames


def _text(value: Any) -> str:
    if value is None or value != value:  # NaN
        return ""
    return str(value).strip()


def _birth(value: Any, fmt: str, counts: dict[str, int]) -> date | None:
    text = _text(value)
    if not text:
        return None
    try:
        day = datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date)
    except ValueError:
        counts["birth dates not a date"] += 1
        return None
    if day > date.today():
        counts["birth dates in the future"] += 1
        return None
    return day


def _ssn(value: Any, counts: dict[str, int]) -> str:
    text = _text(value)
    if text and not _SSN.match(text):
        counts["SSNs without nine digits"] += 1
        return ""
    return text


def _address(number: Any, street: Any, unit: Any, city: Any, state: Any,
             zip_code: Any, po_box: Any = None) -> list[dict[str, Any]]:  # fmt: skip
    line1 = " ".join(x for x in (_text(number), _text(street)) if x)
    if not line1 and _text(po_box):
        line1 = f"PO Box {_text(po_box)}"
    if not line1:
        return []
    return [{"line1": line1[:200], "line2": _text(unit)[:200],
             "city": _text(city)[:100], "state": _text(state)[:100],
             "postal_code": _text(zip_code)[:20]}]  # fmt: skip


def plans(
    frames: dict[str, Any], people: int | None
) -> tuple[list[Any], dict[str, int]]:
    """RecordPlans of the first `people` simulants (sorted ids; all when None), each
    with its facility's MRN; and the counts of values left out."""
    from recordroom.demo.people import NamePlan, RecordPlan
    from recordroom.kernel.text import search_key

    ids = sorted({s for df in frames.values() for s in df["simulant_id"]})
    if people is not None:
        ids = ids[:people]
    person = {s: i for i, s in enumerate(ids)}
    counts = dict.fromkeys(("birth dates not a date", "birth dates in the future",
                            "SSNs without nine digits", "blank surnames"), 0)  # fmt: skip
    out = []
    for ordinal, (code, _name, _dataset, _fn) in enumerate(FACILITIES):
        df = frames[code]
        for n, row in enumerate(df[df["simulant_id"].isin(person)].to_dict("records")):
            family = _text(row.get("last_name"))
            if not search_key(family):
                counts["blank surnames"] += 1
                family = "UNKNOWN"
            middle = _text(row.get("middle_initial", row.get("middle_name")))
            if code == "CEN":
                birth = _birth(row["date_of_birth"], "%m/%d/%Y", counts)
                addresses = _address(row["street_number"], row["street_name"],
                                     row["unit_number"], row["city"], row["state"],
                                     row["zipcode"])  # fmt: skip
                ssn = ""
            elif code == "SSA":
                birth = _birth(row["date_of_birth"], "%Y%m%d", counts)
                addresses, ssn = [], _ssn(row["ssn"], counts)
            else:
                birth, ssn = None, _ssn(row["ssn"], counts)
                addresses = _address(
                    row["mailing_address_street_number"],
                    row["mailing_address_street_name"],
                    row["mailing_address_unit_number"], row["mailing_address_city"],
                    row["mailing_address_state"], row["mailing_address_zipcode"],
                    row["mailing_address_po_box"],
                )  # fmt: skip
            sex = _text(row.get("sex")).lower()
            out.append(RecordPlan(
                person=person[row["simulant_id"]], ordinal=ordinal, relation=code,
                names=[NamePlan(family=family, given=_text(row["first_name"]),
                                middle=middle)],
                birth_date=birth,  # type: ignore[arg-type]
                sex=sex if sex in ("female", "male") else "unknown",
                mrns={code: f"{code}{n + 1:07d}"}, ssn=ssn, addresses=addresses,
            ))  # fmt: skip
    return out, counts


def load(noise: str, seed: int, people: int | None, data_dir: Path) -> dict[str, Any]:
    """Generate and load the records once per data dir; returns what was loaded
    (records, seconds, the ground truth's path, the values left out)."""
    from recordroom.demo.loader import DEMO_ACTOR, TRUTH_COLUMNS
    from recordroom.demo.rows import write_batch
    from recordroom.demo.setup import Scenery
    from recordroom.mpi.models import Patient
    from recordroom.records.models import Facility

    truth = data_dir / "pseudopeople" / "ground-truth.csv"
    meta_file = truth.with_name("population.json")
    wanted = {"noise": noise, "seed": seed, "people": people, "year": YEAR}
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if meta["wanted"] != wanted:
            raise SystemExit(
                f"{data_dir} holds the population of {meta['wanted']}, not {wanted}: "
                "use another --data-dir"
            )
        return meta | {"truth": str(truth), "load_s": 0.0}
    if Patient.objects.exists():
        raise SystemExit(
            f"{data_dir} holds patients but no ground truth; use a new dir"
        )
    started = time.perf_counter()
    frames = generate(noise, seed)
    records, counts = plans(frames, people)
    generated = time.perf_counter() - started
    facilities = {
        code: Facility.objects.get_or_create(
            code=code, defaults={"name": name, "mrn_system": f"urn:bench:{code}:mrn",
                                 "timezone": "America/Los_Angeles"},
        )[0]
        for code, name, _dataset, _fn in FACILITIES
    }  # fmt: skip
    scenery = Scenery(facilities, {}, {})
    truth.parent.mkdir(parents=True, exist_ok=True)
    with truth.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(TRUTH_COLUMNS)
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            patients = write_batch(
                actor=DEMO_ACTOR, plans=batch, stored=[], scenery=scenery
            )
            for plan, patient in zip(batch, patients, strict=True):
                code = plan.relation
                out.writerow((patient.pk, plan.person_id, plan.mrns[code], code, code))
    meta = {
        "wanted": wanted, "records": len(records), "left_out": counts,
        "per_facility": {c: sum(r.relation == c for r in records)
                         for c, *_ in FACILITIES},
        "people": len({r.person for r in records}),
        "generate_s": generated, "total_load_s": time.perf_counter() - started,
    }  # fmt: skip
    meta_file.write_text(json.dumps(meta, indent=1))
    return meta | {"truth": str(truth), "load_s": meta["total_load_s"]}
