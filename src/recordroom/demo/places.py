"""The demo's two facilities, their catchment towns and the medical staff roster.

The roster does not depend on the patient seed: the same hospital staff serve every
synthetic population, so demo users can be linked to a provider before or after a load.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from recordroom.kernel.npi import npi_check_digit


@dataclass(frozen=True)
class FacilitySpec:
    code: str
    name: str
    mrn_system: str
    address: str
    phone: str
    mrn_format: str  # str.format template taking the MRN number
    account_prefix: str
    area_codes: tuple[str, ...]
    towns: tuple[tuple[str, str, str], ...]  # city, state, ZIP


NORTH = FacilitySpec(
    code="NORTH", name="Northfield General Hospital",
    mrn_system="urn:recordroom:demo:northfield:mrn",
    address="1200 Lakeview Parkway, Northfield, IL 60093", phone="847-555-0100",
    mrn_format="{:08d}", account_prefix="NV", area_codes=("847", "224", "773"),
    towns=(
        ("Evanston", "IL", "60201"), ("Skokie", "IL", "60076"), ("Wilmette", "IL", "60091"),
        ("Glenview", "IL", "60025"), ("Northbrook", "IL", "60062"),
        ("Winnetka", "IL", "60093"), ("Highland Park", "IL", "60035"),
        ("Deerfield", "IL", "60015"), ("Des Plaines", "IL", "60016"),
        ("Park Ridge", "IL", "60068"), ("Niles", "IL", "60714"),
        ("Morton Grove", "IL", "60053"), ("Chicago", "IL", "60640"),
        ("Chicago", "IL", "60625"), ("Kenosha", "WI", "53140"),
    ),
)  # fmt: skip
SOUTH = FacilitySpec(
    code="SOUTH", name="Southbank Community Clinic",
    mrn_system="urn:recordroom:demo:southbank:mrn",
    address="455 River Road, Blue Island, IL 60406", phone="708-555-0150",
    mrn_format="SB{:07d}", account_prefix="SV", area_codes=("708", "773", "872"),
    towns=(
        ("Blue Island", "IL", "60406"), ("Oak Lawn", "IL", "60453"),
        ("Evergreen Park", "IL", "60805"), ("Harvey", "IL", "60426"),
        ("Calumet City", "IL", "60409"), ("Orland Park", "IL", "60462"),
        ("Tinley Park", "IL", "60477"), ("Chicago Heights", "IL", "60411"),
        ("Homewood", "IL", "60430"), ("Chicago", "IL", "60629"),
        ("Chicago", "IL", "60643"), ("Hammond", "IN", "46320"), ("Gary", "IN", "46402"),
    ),
)  # fmt: skip
FACILITIES = (NORTH, SOUTH)
BY_CODE = {f.code: f for f in FACILITIES}
TIMEZONE = "America/Chicago"

# specialty, credentials, how many
_STAFFING: tuple[tuple[str, str, int], ...] = (
    ("Hospital medicine", "MD", 6), ("Emergency medicine", "MD", 4),
    ("Emergency medicine", "PA-C", 1), ("Internal medicine", "MD", 3),
    ("Internal medicine", "NP", 1), ("Family medicine", "DO", 2),
    ("Family medicine", "MD", 2), ("General surgery", "MD", 3),
    ("Orthopaedic surgery", "MD", 2), ("Cardiology", "MD", 2), ("Radiology", "MD", 3),
    ("Pathology", "MD", 2), ("Psychiatry", "MD", 2), ("Clinical psychology", "PhD", 1),
    ("Addiction medicine", "MD", 1), ("Obstetrics and gynecology", "MD", 2),
    ("Pediatrics", "MD", 2), ("Neurology", "MD", 1),
)  # fmt: skip


@dataclass(frozen=True)
class ProviderSpec:
    index: int
    npi: str
    given: str
    family: str
    credentials: str
    specialty: str
    facilities: tuple[str, ...]

    @property
    def display(self) -> str:
        return f"{self.given} {self.family}, {self.credentials}"


@cache
def roster() -> tuple[ProviderSpec, ...]:
    """About 40 providers with valid NPIs, the same for every seed."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(20260101)
    rng = random.Random("recordroom-demo-roster")
    out: list[ProviderSpec] = []
    npis: set[str] = set()
    for specialty, cred, count in _STAFFING:
        for _ in range(count):
            while True:
                first_nine = "1" + f"{rng.randrange(10**8):08d}"
                npi = first_nine + npi_check_digit(first_nine)
                if npi not in npis:
                    npis.add(npi)
                    break
            female = rng.random() < 0.5
            given = fake.first_name_female() if female else fake.first_name_male()
            i = len(out)
            where = (
                ("NORTH", "SOUTH") if i % 3 == 0 else (("NORTH",), ("SOUTH",))[i % 2]
            )
            out.append(
                ProviderSpec(i, npi, given, fake.last_name(), cred, specialty, where)
            )
    return tuple(out)


def providers_for(specialty: str, facility: str) -> list[ProviderSpec]:
    found = [
        p for p in roster() if p.specialty == specialty and facility in p.facilities
    ]
    return found or [p for p in roster() if p.specialty == specialty]
