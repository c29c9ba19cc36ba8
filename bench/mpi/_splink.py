"""The reference: Splink 5 on DuckDB with the settings its documentation gives for
person data (the `deduplicate_50k_synthetic` example: ForenameSurname, DateOfBirth,
Postcode comparisons, exact-with-term-frequency on a place column, its ten
blocking rules, prior from deterministic rules at recall 0.6, u from 1e7 random
pairs, EM blocked on names and on date of birth), plus Splink's EmailComparison and
exact SSN (keyed hash) and phone comparisons so it sees what our engine sees."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def flat_table(path: Path) -> int:
    """One row per active patient, as Splink wants it: current legal name, birth
    date, current ZIP and city, first e-mail and phone, current SSN (keyed hash)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from recordroom.mpi.linkage.loading import active_patients
    from recordroom.mpi.models import (
        PatientAddress,
        PatientIdentifier,
        PatientName,
        PatientTelecom,
    )

    rows: dict[Any, dict[str, Any]] = {}
    for pk, dob in active_patients().values_list("pk", "birth_date").iterator(20_000):
        rows[pk] = {"unique_id": str(pk), "dob": dob.isoformat() if dob else None}
    names = PatientName.objects.filter(use="legal", period_end__isnull=True)
    for pid, family, given in names.values_list(
        "patient_id", "family_key", "given_key"
    ).iterator(20_000):
        if pid in rows:
            rows[pid].update(surname=family or None, first_name=given or None)
    addrs = PatientAddress.objects.filter(period_end__isnull=True)
    for pid, zip_code, city in addrs.values_list(
        "patient_id", "postal_code", "city"
    ).iterator(20_000):
        if pid in rows:
            rows[pid].update(
                postcode=zip_code or None, city=(city or "").lower() or None
            )
    for pid, system, value in PatientTelecom.objects.values_list(
        "patient_id", "system", "value"
    ).iterator(20_000):
        if pid in rows and system not in rows[pid]:
            rows[pid][system] = value.lower()
    ssns = PatientIdentifier.objects.filter(kind="SS", period_end__isnull=True)
    for pid, lookup in ssns.values_list("patient_id", "lookup").iterator(20_000):
        if pid in rows:
            rows[pid]["ssn"] = lookup
    cols = [
        "unique_id",
        "first_name",
        "surname",
        "dob",
        "postcode",
        "city",
        "email",
        "phone",
        "ssn",
    ]
    data = {c: [r.get(c) for r in rows.values()] for c in cols}
    data["first_name_surname_concat"] = [
        f"{f} {s}" if f and s else None
        for f, s in zip(data["first_name"], data["surname"], strict=True)
    ]
    pq.write_table(pa.table(data), path)
    return len(rows)


# The example's rules that do not involve the birth date block on a ZIP code or a
# name prefix alone with a name: with this data's 28 ZIP codes and Faker's skewed
# surnames they make hundreds of millions of comparisons at 1M records (the run was
# stopped at 20 GB). `selective` keeps the example's rules that include the birth
# date.
SELECTIVE = (1, 2, 5, 6, 9)


def rules(selective: bool = False) -> list[Any]:
    """The example's blocking rules for predictions (`selective`: those with the
    birth date)."""
    from splink import block_on

    out = [
        block_on("substr(first_name,1,3)", "substr(surname,1,4)"),
        block_on("surname", "dob"),
        block_on("first_name", "dob"),
        block_on("postcode", "first_name"),
        block_on("postcode", "surname"),
        block_on("dob", "city"),
        block_on("substr(postcode,1,3)", "dob"),
        block_on("substr(postcode,1,3)", "first_name"),
        block_on("substr(postcode,1,3)", "surname"),
        block_on("substr(first_name,1,2)", "substr(surname,1,2)", "substr(dob,1,4)"),
    ]
    return [out[i] for i in SELECTIVE] if selective else out


def settings(extended: bool, selective: bool = False) -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator

    rules_ = rules(selective)
    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=rules_,
        comparisons=[
            cl.ForenameSurnameComparison(
                "first_name", "surname",
                forename_surname_concat_col_name="first_name_surname_concat",
            ),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            *([cl.ExactMatch("ssn"), cl.ExactMatch("phone")] if extended else []),
        ],
        retain_intermediate_calculation_columns=False,
    )  # fmt: skip


def run(
    path: Path, threshold: float, searches: int, extended: bool, selective: bool
) -> dict[str, Any]:
    """Train and predict; pairs at or above `threshold`; one-record searches.

    `extended` adds exact SSN and phone comparisons. On this data they can make an
    EM session fail (an m probability underflows below 1e-300, a known Splink
    limitation with near-deterministic columns); a failed session is skipped and
    reported, as a user would have to. So is a session whose training rule finds
    no pair at all (Splink's EMTrainingException, not a ValueError): at a tiny
    size no two records may share a first name and surname."""
    import logging

    from splink import DuckDBAPI, Linker, block_on
    from splink.internals.exceptions import EMTrainingException

    logging.getLogger("splink").setLevel(logging.WARNING)
    started, cpu = time.perf_counter(), time.process_time()
    db_api = DuckDBAPI()
    # protect the shared machine: DuckDB spills to disk past this
    db_api.duckdb_con.execute("SET memory_limit = '8GB'")
    df = db_api.register(db_api.duckdb_con.read_parquet(str(path)))
    linker = Linker(df, settings(extended, selective))
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"),
         block_on("substr(first_name,1,2)", "surname", "substr(postcode,1,2)"),
         block_on("dob", "postcode")],
        recall=0.6,
    )  # fmt: skip
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    failed = []
    for name, rule in (("first_name, surname", block_on("first_name", "surname")),
                       ("dob", block_on("dob"))):  # fmt: skip
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except (ValueError, EMTrainingException) as exc:
            failed.append(f"EM blocked on {name}: {str(exc)[:80]}")
    trained = time.perf_counter() - started
    predictions = linker.inference.predict(
        threshold_match_probability=min(threshold, 0.5)
    )
    rows = (
        predictions.as_duckdbpyrelation()
        .select("unique_id_l, unique_id_r, match_probability")
        .fetchall()
    )
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "pairs": [(*sorted((a, b)), p) for a, b, p in rows],
        "train_s": trained,
        "total_s": total,
        "cpu_s": cpu,
        "search_ms": _searches(linker, db_api, path, searches),
        "em_failed": failed,
    }


def _searches(linker: Any, db_api: Any, path: Path, count: int) -> list[float]:
    """One new record against the whole table (predict_between), `count` times."""
    con = db_api.duckdb_con
    sample = con.read_parquet(str(path)).limit(count).fetchall()
    columns = con.read_parquet(str(path)).columns
    master = db_api.register(con.read_parquet(str(path)))
    out = []
    for row in sample:
        record = dict(zip(columns, row, strict=True))
        record["unique_id"] = "new-" + record["unique_id"]
        new = db_api.register([record])
        started = time.perf_counter()
        linker.inference.predict_between(new, master)
        out.append((time.perf_counter() - started) * 1000)
    return out


def blocking_recall(path: Path, truth: set[tuple[str, str]], selective: bool) -> float:
    """Share of the true pairs that at least one prediction blocking rule compares
    (a rule's equalities on the pair's two rows, as Splink evaluates them)."""
    import duckdb

    if not truth:
        return 0.0
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
    con.execute("CREATE TABLE truth (a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO truth VALUES (?, ?)", sorted(truth))
    any_rule = " OR ".join(
        f"({r.get_blocking_rule('duckdb').blocking_rule_sql})" for r in rules(selective)
    )
    (hit,) = con.execute(
        f"SELECT count(*) FROM truth JOIN t l ON l.unique_id = truth.a "  # noqa: S608
        f"JOIN t r ON r.unique_id = truth.b WHERE {any_rule}"
    ).fetchone()
    return int(hit) / len(truth)
