"""Read patients from the index into a `Table`: the whole index for a scan (raw
cursor, in batches), or a handful of candidates for real-time scoring."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from django.db import connection, models

from recordroom.mpi.models import (
    IdentifierKind,
    NameUse,
    Patient,
    PatientAddress,
    PatientIdentifier,
    PatientName,
    PatientTelecom,
)

from .features import Table, TableBuilder

Progress = Callable[[str, int, int], None]
_FETCH = 20_000


def _select(model: type[models.Model], names: list[str], where: str = "") -> str:
    meta = model._meta
    qn = connection.ops.quote_name
    cols = ", ".join(qn(meta.get_field(n).column) for n in names)  # type: ignore[union-attr,arg-type]
    return f"SELECT {cols} FROM {qn(meta.db_table)} {where}"  # noqa: S608


def _rows(sql: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        while True:
            batch = cursor.fetchmany(_FETCH)
            if not batch:
                return
            yield from batch


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _uuid_text(value: Any) -> str:
    return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))


def active_patients() -> models.QuerySet[Patient]:
    """Patients that are charts of their own (a record merged into another is
    retired: its survivor carries its names and identifiers)."""
    return Patient.objects.filter(merged_into__isnull=True)


def count_patients() -> int:
    return active_patients().count()


def fingerprint() -> str:
    """Changes when patients or their parts are added or changed (a resumed scan
    must see the same index as the run it continues)."""
    parts = [str(count_patients())]
    latest = Patient.objects.aggregate(m=models.Max("updated_at"))["m"]
    parts.append(latest.isoformat() if latest else "-")
    for model in (PatientName, PatientIdentifier, PatientAddress, PatientTelecom):
        parts.append(str(model.objects.aggregate(m=models.Max("pk"))["m"] or 0))
    return ":".join(parts)


def load_index(progress: Progress | None = None) -> Table:
    """Every patient, ordered by id (so a scan sees them in a fixed order)."""
    total = count_patients()
    builder = TableBuilder(total)
    raw_index: dict[Any, int] = {}
    retired = connection.ops.quote_name(Patient._meta.get_field("merged_into").column)  # type: ignore[union-attr]
    sql = _select(
        Patient, ["id", "birth_date", "sex"], f"WHERE {retired} IS NULL ORDER BY 1"
    )
    for i, (pk, birth, sex) in enumerate(_rows(sql)):
        if i >= total:  # added while reading: the next scan takes it
            break
        raw_index[pk] = i
        builder.person(i, _uuid_text(pk), _date(birth), sex)
        if progress and i % 100_000 == 0:
            progress("load", i, total)
    _fill_parts(builder, raw_index, "", [])
    if progress:
        progress("load", total, total)
    return builder.build()


def load_patients(
    ids: list[Any], tf: dict[str, dict[str, float]] | None, first: Any = None
) -> Table:
    """These patients as a small table with term frequencies `tf`; with `first` (a
    callable taking the builder and a row), the incoming record is row 0."""
    offset = 1 if first is not None else 0
    rows = sorted(
        active_patients().filter(pk__in=ids).values_list("pk", "birth_date", "sex"),
        key=lambda r: str(r[0]),
    )
    builder = TableBuilder(len(rows) + offset)
    if first is not None:
        first(builder, 0)
    raw_index: dict[Any, int] = {}
    for i, (pk, birth, sex) in enumerate(rows, start=offset):
        raw_index[_raw(pk)] = i
        builder.person(i, str(pk), birth, sex)
    _fill_parts(builder, raw_index, "patient_id", [pk for pk, _, _ in rows])
    return builder.build(tf=tf)


def _raw(pk: uuid.UUID) -> Any:
    """A patient id as the database driver returns it (SQLite: 32 hex digits)."""
    return pk.hex if connection.vendor == "sqlite" else pk


def _where(field: str, ids: list[Any]) -> tuple[str, list[Any]]:
    if not field:
        return "", []
    marks = ", ".join(["%s"] * len(ids))
    values = [_raw(i) for i in ids]
    return f"WHERE {connection.ops.quote_name(field)} IN ({marks})", values


def _fill_parts(
    b: TableBuilder, raw_index: dict[Any, int], field: str, ids: list[Any]
) -> None:
    where, params = _where(field, ids)
    if field and not ids:
        return
    legal = NameUse.LEGAL.value
    cols = ["patient", "use", "family", "given", "middle", "suffix", "period_end"]
    for pid, use, family, given, middle, suffix, end in _rows(
        _select(PatientName, cols, where), params
    ):
        i = raw_index.get(pid)
        if i is not None:
            b.name(i, family=family, given=given, middle=middle, suffix=suffix,
                   current_legal=use == legal and end is None)  # fmt: skip
    cols = ["patient", "kind", "system", "lookup", "last4", "period_end"]
    for pid, kind, system, lookup, last4, end in _rows(
        _select(PatientIdentifier, cols, where), params
    ):
        i = raw_index.get(pid)
        if i is None or kind == IdentifierKind.MRN:
            continue  # an MRN is one facility's chart number, shared by no one
        if kind == IdentifierKind.SSN:
            b.ssn(i, lookup, last4, current=end is None)
        else:
            b.identifier(i, system, lookup)
    cols = ["patient", "line1", "line2", "postal_code", "period_end"]
    for pid, line1, line2, postal, end in _rows(
        _select(PatientAddress, cols, where), params
    ):
        i = raw_index.get(pid)
        if i is not None:
            b.address(i, line1, line2, postal, current=end is None)
    cols = ["patient", "system", "value", "period_end"]
    for pid, system, value, end in _rows(_select(PatientTelecom, cols, where), params):
        i = raw_index.get(pid)
        if i is not None:
            b.telecom(i, system, value, current=end is None)
