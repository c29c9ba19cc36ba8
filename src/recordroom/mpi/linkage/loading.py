"""Read patients from the index into a `Table`: the whole index for a scan (raw
cursor, in batches), or a handful of candidates for real-time scoring."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import numpy as np
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
PARALLEL_FROM = 50_000  # patients; below this one process reads faster
ADDRESS_FIELDS = ("address", "street", "zip", "address_sound", "street_name")


def _select(model: type[models.Model], names: list[str], where: str = "") -> str:
    meta = model._meta
    qn = connection.ops.quote_name
    cols = ", ".join(qn(meta.get_field(n).column) for n in names)  # type: ignore[union-attr,arg-type]
    return f"SELECT {cols} FROM {qn(meta.db_table)} {where}"  # noqa: S608


def _batches(
    sql: str, params: Iterable[Any] = (), db: Any = None
) -> Iterator[list[tuple[Any, ...]]]:
    with (db or connection).cursor() as cursor:
        cursor.execute(sql, list(params))
        while True:
            batch = cursor.fetchmany(_FETCH)
            if not batch:
                return
            yield batch


def _rows(sql: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
    for batch in _batches(sql, params):
        yield from batch


def _hex(value: Any) -> bytes:
    """A patient id as 32 hex digits, however the driver returned it (SQLite: the
    digits already; PostgreSQL: a UUID)."""
    if type(value) is str and len(value) == 32:
        return value.encode()
    if isinstance(value, uuid.UUID):
        return value.hex.encode()
    return str(value).replace("-", "").encode()


class _Index:
    """Patient id (as the driver returns it) -> table row: a sorted array of the
    ids' hex digits searched in bulk (a million-entry dict would cost ~100 MB)."""

    def __init__(self, hexes: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(hexes)
        self.hexes, self.rows = hexes[order], rows[order]

    def rows_of(self, pids: list[Any]) -> np.ndarray:
        """Rows of these ids; -1 for an id not in the table."""
        wanted = np.array([_hex(p) for p in pids], dtype="S32")
        at = np.minimum(np.searchsorted(self.hexes, wanted), len(self.hexes) - 1)
        found = (
            self.hexes[at] == wanted if len(self.hexes) else np.zeros(len(wanted), bool)
        )
        return np.where(found, self.rows[at], -1)


class HexKeys(Sequence[str]):
    """Patient ids of a table's rows, held as hex digits, given out as UUID text."""

    def __init__(self, hexes: np.ndarray) -> None:
        self.hexes = hexes

    def __len__(self) -> int:
        return len(self.hexes)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [str(uuid.UUID(h.decode())) for h in self.hexes[i]]
        return str(uuid.UUID(self.hexes[i].decode()))


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


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
    """Every active patient, ordered by id (so a scan sees them in a fixed order)."""
    total = count_patients()
    builder = TableBuilder(total)
    hexes = np.zeros(total, dtype="S32")
    retired = connection.ops.quote_name(Patient._meta.get_field("merged_into").column)  # type: ignore[union-attr]
    sql = _select(
        Patient, ["id", "birth_date", "sex"], f"WHERE {retired} IS NULL ORDER BY 1"
    )
    for i, (pk, birth, sex) in enumerate(_rows(sql)):
        if i >= total:  # added while reading: the next scan takes it
            break
        hexes[i] = _hex(pk)
        builder.person(i, "", _date(birth), sex)
        if progress and i % 100_000 == 0:
            progress("load", i, total)
    builder.keys = HexKeys(hexes)
    _fill_parts_parallel(builder, _Index(hexes, np.arange(total)))
    if progress:
        progress("load", total, total)
    return builder.build()


def load_patients(
    ids: list[Any], tf: dict[str, dict[str, float]] | None, first: Any = None
) -> Table:
    """These patients as a small table with term frequencies `tf`; with `first` (a
    callable taking the builder and a row), the incoming record is row 0."""
    offset = 1 if first is not None else 0
    # Retired (merged) records are dropped here, not in SQL: a "merged_into IS NULL"
    # condition can lead SQLite to scan that column's index instead of the keys.
    found = Patient.objects.filter(pk__in=ids).values_list(
        "pk", "birth_date", "sex", "merged_into_id"
    )
    rows = sorted(
        ((pk, born, sex) for pk, born, sex, retired in found if retired is None),
        key=lambda r: str(r[0]),
    )
    builder = TableBuilder(len(rows) + offset)
    if first is not None:
        first(builder, 0)
    for i, (pk, birth, sex) in enumerate(rows, start=offset):
        builder.person(i, str(pk), birth, sex)
    hexes = np.array([_hex(pk) for pk, _, _ in rows], dtype="S32")
    index = _Index(hexes, np.arange(offset, len(rows) + offset))
    _fill_parts(builder, index, "patient_id", [pk for pk, _, _ in rows])
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


def _parts(
    model: type[models.Model], cols: list[str], index: _Index, where: str,
    params: list[Any], db: Any = None,
) -> Iterator[tuple[int, tuple[Any, ...]]]:  # fmt: skip
    """(table row, the other columns) for every part row of a patient in the table."""
    for batch in _batches(_select(model, cols, where), params, db):
        rows = index.rows_of([r[0] for r in batch])
        for i, r in zip(rows.tolist(), batch, strict=True):
            if i >= 0:
                yield i, r[1:]


def _fill_parts(b: TableBuilder, index: _Index, field: str, ids: list[Any]) -> None:
    if field and not ids:
        return
    where, params = _where(field, ids)
    _fill_names(b, index, where, params)
    _fill_contacts(b, index, where, params)


def _fill_names(
    b: TableBuilder, index: _Index, where: str, params: list[Any], db: Any = None
) -> None:
    legal = NameUse.LEGAL.value
    cols = ["patient", "use", "family", "given", "middle", "suffix", "period_end"]
    for i, (use, family, given, middle, suffix, end) in _parts(
        PatientName, cols, index, where, params, db
    ):
        b.name(i, family=family, given=given, middle=middle, suffix=suffix,
               current_legal=use == legal and end is None)  # fmt: skip


def _fill_contacts(
    b: TableBuilder, index: _Index, where: str, params: list[Any], db: Any = None,
    parts: tuple[str, ...] = ("identifiers", "addresses", "telecoms"),
) -> None:  # fmt: skip
    """Identifiers, addresses, phones and e-mail: all kept as codes, no vocabulary,
    so another process can read some of them (load_index does, for a large index)."""
    if "identifiers" in parts:
        cols = ["patient", "kind", "system", "lookup", "last4", "period_end"]
        # an MRN is one facility's chart number, shared by no one: not read
        mrn = f"{connection.ops.quote_name('kind')} <> '{IdentifierKind.MRN.value}'"
        ident_where = f"{where} AND {mrn}" if where else f"WHERE {mrn}"
        for i, (kind, system, lookup, last4, end) in _parts(
            PatientIdentifier, cols, index, ident_where, params, db
        ):
            if kind == IdentifierKind.SSN:
                b.ssn(i, lookup, last4, current=end is None)
            else:
                b.identifier(i, system, lookup)
    if "addresses" in parts:
        cols = ["patient", "line1", "line2", "postal_code", "period_end"]
        for i, (line1, line2, postal, end) in _parts(
            PatientAddress, cols, index, where, params, db
        ):
            b.address(i, line1, line2, postal, current=end is None)
    if "telecoms" in parts:
        cols = ["patient", "system", "value", "period_end"]
        for i, (system, value, end) in _parts(
            PatientTelecom, cols, index, where, params, db
        ):
            b.telecom(i, system, value, current=end is None)


def _contacts_in_child(out: Any, index: _Index, total: int) -> None:
    """Forked: read the contact parts over a connection of its own (the parent's
    is left alone, not even closed) and send the slotted rows back as bytes."""
    try:
        from django.db import connections

        db = connections.create_connection("default")
        b = TableBuilder(total)
        _fill_contacts(b, index, "", [], db, parts=("addresses",))
        out.send({f: b.slotted[f].dump() for f in ADDRESS_FIELDS})
    finally:
        os._exit(0)


def _fill_parts_parallel(b: TableBuilder, index: _Index) -> None:
    """Addresses in a forked process, the rest here: two cores, about half the time.
    Only for a large index outside a transaction (a new connection would not see
    uncommitted rows); otherwise, or if the child fails, one process does it all."""
    if (
        len(index.rows) < PARALLEL_FROM
        or connection.in_atomic_block
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        _fill_parts(b, index, "", [])
        return
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_contacts_in_child, args=(send, index, b.n))
    child.start()
    send.close()
    _fill_names(b, index, "", [])
    _fill_contacts(b, index, "", [], parts=("identifiers", "telecoms"))
    try:
        dumped = receive.recv()
    except EOFError:
        dumped = None
    child.join()
    if dumped is None:
        _fill_contacts(b, index, "", [], parts=("addresses",))
        return
    for field, data in dumped.items():
        b.slotted[field].load(*data)
