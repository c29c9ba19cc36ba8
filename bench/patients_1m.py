"""Build a large synthetic patient index (default 1,000,000) for the search benchmarks.

    .venv/bin/python bench/patients_1m.py --patients 1000000 --data-dir /tmp/rr-bench-1m

Builds once: run again on the same data dir and it reports what is there and exits
(--force starts over). Rows are written with executemany in batches inside
transactions, with the keys the services compute (kernel.text.search_key,
mpi.services.identifier_lookup / ssn_lookup, kernel.crypto.encrypt for SSNs); on
SQLite the secondary indexes are dropped for the load and rebuilt after, then ANALYZE.
No documents and no audit events (the population is loaded, not registered).
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import _common
from _names import NameSource

FACILITIES = (
    ("NORTH", "Northgate General Hospital", "urn:oid:2.16.840.1.113883.3.7777.1.1"),
    ("SOUTH", "Southside Community Clinic", "urn:oid:2.16.840.1.113883.3.7777.2.1"),
)
USERS = (("bench-all", None), ("bench-north", "NORTH"))
TABLES = (
    "mpi_patient",
    "mpi_patientname",
    "mpi_patientidentifier",
    "records_encounter",
)
# A permutation of 0..10**8-1 (7919 is prime to 10**8): unique, random-looking numbers.
_PERM_MUL, _PERM_ADD, _PERM_MOD = 7919, 12_345_677, 10**8


def permuted(n: int) -> int:
    return (n * _PERM_MUL + _PERM_ADD) % _PERM_MOD


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--patients", type=int, default=1_000_000)
    p.add_argument("--data-dir", required=True, help="e.g. /tmp/rr-bench-1m")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--batch", type=int, default=25_000, help="patients per transaction")
    p.add_argument(
        "--ssn-share", type=float, default=0.8, help="share of patients with an SSN"
    )
    p.add_argument("--force", action="store_true", help="delete the database first")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    data_dir = Path(args.data_dir).resolve()
    if args.force:
        for f in data_dir.glob("recordroom.sqlite3*"):
            f.unlink()
    started = time.perf_counter()
    _common.setup_django(data_dir)
    from django.db import connection

    from recordroom.mpi.models import Patient

    existing = Patient.objects.count()
    if existing:
        print(f"{data_dir} already holds {existing:,} patients; reusing it")
        print("(run with --force to rebuild)")
        _report_counts()
        _common.footer()
        return 0
    facilities = _facilities()
    _users()
    loader = Loader(connection, facilities, args)
    dropped = loader.drop_indexes()
    t0 = time.perf_counter()
    loader.load()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loader.create_indexes(dropped)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    analyze_s = time.perf_counter() - t0
    total_s = time.perf_counter() - started

    print(f"\nloaded {args.patients:,} patients into {data_dir}")
    _report_counts()
    print(
        f"  rows written  {load_s:8.1f} s  ({args.patients / load_s:,.0f} patients/s)"
    )
    print(f"  indexes built {index_s:8.1f} s")
    print(f"  ANALYZE       {analyze_s:8.1f} s")
    print(f"  total         {total_s:8.1f} s  (incl. migrate and set-up)")
    db = data_dir / "recordroom.sqlite3"
    if connection.vendor == "sqlite" and db.exists():
        print(f"  database size {db.stat().st_size / 2**30:8.2f} GiB")
    _common.footer()
    return 0


def _report_counts() -> None:
    from recordroom.mpi.models import Patient, PatientIdentifier, PatientName
    from recordroom.records.models import Encounter

    for label, model in (
        ("patients", Patient),
        ("names", PatientName),
        ("identifiers", PatientIdentifier),
        ("encounters", Encounter),
    ):
        print(f"  {label:<13} {model.objects.count():>12,}")


def _facilities() -> dict[str, Any]:
    from recordroom.mpi.models import Facility

    out = {}
    for code, name, system in FACILITIES:
        fac, _ = Facility.objects.get_or_create(
            code=code, defaults={"name": name, "mrn_system": system}
        )
        out[code] = fac
    return out


def _users() -> None:
    """bench-all sees every facility; bench-north only NORTH (scoped search)."""
    from recordroom.accounts.models import User
    from recordroom.accounts.services import create_user
    from recordroom.kernel.actor import Actor

    actor = Actor(channel="cli", name="bench")
    for username, facility in USERS:
        if User.objects.filter(username=username).exists():
            continue
        create_user(
            actor=actor,
            username=username,
            role="him_specialist",
            all_facilities=facility is None,
            facility_codes=[facility] if facility else None,
        )


class Loader:
    """Generates rows in the services' shape and writes them table by table."""

    def __init__(self, connection: Any, facilities: dict[str, Any], args: Any) -> None:
        from recordroom.kernel import crypto
        from recordroom.kernel.text import search_key
        from recordroom.mpi.search_keys import sound_key
        from recordroom.mpi.services import identifier_lookup, ssn_lookup

        self.conn = connection
        self.sqlite = connection.vendor == "sqlite"
        self.facilities = facilities
        self.args = args
        self.rng = random.Random(args.seed)
        self.names = NameSource(args.seed)
        self.today = date.today()
        self.now = self.dt(datetime.now(UTC))
        self.key = functools.lru_cache(maxsize=400_000)(search_key)
        self.sound = functools.lru_cache(maxsize=400_000)(sound_key)
        self.identifier_lookup = identifier_lookup
        self.ssn_lookup = ssn_lookup
        self.encrypt = crypto.encrypt

    # -- values in the shape the database backend stores ---------------------------

    def uid(self, value: uuid.UUID) -> Any:
        return value.hex if self.sqlite else value

    def dt(self, value: datetime) -> Any:
        # Django keeps naive UTC text on SQLite (USE_TZ), aware values on PostgreSQL.
        return value.replace(tzinfo=None) if self.sqlite else value

    # -- indexes ------------------------------------------------------------------

    def drop_indexes(self) -> list[str]:
        """SQLite: drop the secondary indexes for the load (rebuilt sorted, after)."""
        if not self.sqlite:
            return []
        marks = ", ".join("%s" for _ in TABLES)
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
                TABLES,
            )
            found = cur.fetchall()
            for name, _ in found:
                cur.execute(f'DROP INDEX "{name}"')
        return [sql for _, sql in found]

    def create_indexes(self, sqls: list[str]) -> None:
        with self.conn.cursor() as cur:
            if self.sqlite:
                cur.execute("PRAGMA cache_size=-1048576")  # 1 GiB for the sorts
            for sql in sqls:
                cur.execute(sql)

    # -- rows ---------------------------------------------------------------------

    def filled_columns(
        self, model: Any, columns: tuple[str, ...]
    ) -> list[tuple[str, Any]]:
        """The model's other columns with the value each row gets: its default, or NULL.

        Derived from the model, so that a column added later is loaded with its
        default instead of stopping the benchmark. A new column with neither (or a
        unique one, which cannot share one value) needs a value from this loader.
        """
        out = []
        for field in model._meta.concrete_fields:
            if field.column in columns or field.auto_created or field.primary_key:
                continue
            if field.unique or not (field.has_default() or field.null):
                raise SystemExit(
                    f"{model.__name__}.{field.name} ({field.column}) has no default "
                    "this loader can give every row: add its value to "
                    f"bench/patients_1m.py ({model.__name__} rows in Loader.batch)"
                )
            value = field.get_default() if field.has_default() else None
            out.append((field.column, field.get_db_prep_save(value, self.conn)))
        return out

    def load(self) -> None:
        from django.db import transaction

        n, batch = self.args.patients, self.args.batch
        with self.conn.cursor() as cur:
            if self.sqlite:
                cur.execute("PRAGMA synchronous=OFF")
        report_every = max(batch, n // 20)
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            rows = self.batch(start, min(n, start + batch))
            with transaction.atomic(), self.conn.cursor() as cur:
                for (sql, fill), values in zip(self.sql(), rows, strict=True):
                    cur.executemany(sql, [row + fill for row in values])
            done = min(n, start + batch)
            if done % report_every < batch or done == n:
                rate = done / (time.perf_counter() - t0)
                print(f"  {done:>10,} patients  {rate:,.0f}/s", flush=True)

    @functools.cache  # noqa: B019  (one loader per run)
    def sql(self) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        """Per table: the INSERT and the values appended to each generated row."""
        from recordroom.mpi.models import Patient, PatientIdentifier, PatientName
        from recordroom.records.models import Encounter

        def insert(model: Any, columns: tuple[str, ...]) -> tuple[str, tuple]:
            gone = set(columns) - {f.column for f in model._meta.concrete_fields}
            if gone:
                raise SystemExit(
                    f"{model.__name__} no longer has the columns {sorted(gone)}: "
                    "remove them from bench/patients_1m.py"
                )
            filled = self.filled_columns(model, columns)
            names = (*columns, *(c for c, _ in filled))
            marks = ", ".join("%s" for _ in names)
            sql = (
                f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) "
                f"VALUES ({marks})"
            )
            return sql, tuple(v for _, v in filled)

        return (
            insert(Patient, PATIENT_COLS),
            insert(PatientName, NAME_COLS),
            insert(PatientIdentifier, IDENT_COLS),
            insert(Encounter, ENCOUNTER_COLS),
        )

    def batch(self, start: int, stop: int) -> tuple[list, list, list, list]:
        from recordroom.kernel.ids import uuid7

        rng, names, key, today = self.rng, self.names, self.key, self.today
        sound = self.sound
        north, south = self.facilities["NORTH"], self.facilities["SOUTH"]
        patients: list[tuple] = []
        pnames: list[tuple] = []
        idents: list[tuple] = []
        encounters: list[tuple] = []
        for i in range(start, stop):
            pid = self.uid(uuid7())
            roll = rng.random()
            sex = "female" if roll < 0.498 else "male" if roll < 0.996 else "unknown"
            female = sex == "female"
            birth = today - timedelta(days=rng.randrange(36_525))
            deceased = None
            if birth.year < 1950 and rng.random() < 0.1:
                deceased = birth + timedelta(days=rng.randrange(70 * 365, 95 * 365))
                deceased = min(deceased, today)
            patients.append(
                (pid, birth, sex, "", deceased, rng.random() < 0.001, False,
                 rng.random() < 0.002, self.now, self.now)
            )  # fmt: skip
            given = names.given(rng, female)
            middle = names.given(rng, female) if rng.random() < 0.55 else ""
            family = names.family(rng)
            since = None
            if rng.random() < 0.30:
                # a previous (e.g. maiden) name, closed when the legal name began
                old = names.family(rng)
                since = birth + timedelta(days=rng.randrange(18 * 365, 45 * 365))
                since = min(since, today)
                pnames.append(
                    (pid, "previous", old, given, middle, "", "", key(old),
                     key(given), None, since, sound(key(old)))
                )  # fmt: skip
            pnames.append(
                (pid, "legal", family, given, middle, "", "", key(family), key(given),
                 since, None, sound(key(family)))
            )  # fmt: skip
            fac = north if rng.random() < 0.55 else south
            mrn = f"{permuted(i):08d}"
            idents.append(
                (pid, "MR", fac.mrn_system, self.uid(fac.pk), mrn,
                 self.identifier_lookup(mrn), None, "", None, None)
            )  # fmt: skip
            if rng.random() < self.args.ssn_share:
                idents.append(self.ssn_row(pid, rng))
            admit = self.now - timedelta(minutes=rng.randrange(5 * 365 * 24 * 60))
            klass = rng.choice(("AMB", "AMB", "AMB", "EMER", "IMP", "OBSENC", "VR"))
            stay = timedelta(days=rng.randrange(1, 9)) if klass == "IMP" else None
            encounters.append(
                (self.uid(uuid7()), pid, self.uid(fac.pk),
                 f"{fac.code[0]}{permuted(i + 50_000_000):08d}", klass, "finished",
                 admit, admit + (stay or timedelta(hours=2)), "",
                 "01" if klass == "IMP" else "", None, None, "[]", self.now, None, "[]")
            )  # fmt: skip
        return patients, pnames, idents, encounters

    def ssn_row(self, pid: Any, rng: random.Random) -> tuple:
        area = rng.randrange(1, 900)
        while area == 666:
            area = rng.randrange(1, 900)
        digits = f"{area:03d}{rng.randrange(1, 100):02d}{rng.randrange(1, 10_000):04d}"
        return (
            pid, "SS", "http://hl7.org/fhir/sid/us-ssn", None, f"***-**-{digits[-4:]}",
            self.ssn_lookup(digits), self.encrypt(digits.encode(), purpose="ssn"),
            digits[-4:], None, None,
        )  # fmt: skip


PATIENT_COLS = (
    "id", "birth_date", "sex", "gender_identity", "deceased_date", "is_vip",
    "is_employee", "is_restricted", "created_at", "updated_at",
)  # fmt: skip
NAME_COLS = (
    "patient_id", "use", "family", "given", "middle", "prefix", "suffix", "family_key",
    "given_key", "period_start", "period_end", "family_sound",
)  # fmt: skip
IDENT_COLS = (
    "patient_id", "kind", "system", "facility_id", "value", "lookup", "secret", "last4",
    "period_start", "period_end",
)  # fmt: skip
ENCOUNTER_COLS = (
    "id", "patient_id", "facility_id", "account_number", "encounter_class", "status",
    "admit_at", "discharge_at", "location", "discharge_disposition", "attending_id",
    "admitting_id", "sensitivity", "created_at", "service_provider_id", "types",
)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
