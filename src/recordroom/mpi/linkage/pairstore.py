"""Writing a scan's pairs with plain statements (executemany): a model instance per
pair and `bulk_update`'s CASE expressions for the clusters took most of a
33,000-record scan (docs/performance.md, issue 12). The rows stored are the ones
`bulk_create` and `bulk_update` stored: the same columns, each value prepared by its
field (JSON by the JSONField, ids as the backend keeps UUIDs)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

from recordroom.kernel import sqlrows

from .models import CandidatePair, LinkageRun

_INSERTED = ("run_id", "left_id", "right_id", "probability", "match_weight",
             "evidence", "cluster", "on_worklist_since")  # fmt: skip


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)  # type: ignore[no-any-return]


def _pk() -> str:
    assert CandidatePair._meta.pk is not None
    return _qn(CandidatePair._meta.pk.column)


def _column(attname: str) -> str:
    field: Any = CandidatePair._meta.get_field(attname)
    return _qn(field.column)


def insert_pairs(
    run: LinkageRun, rows: Iterable[tuple[str, str, float, float, list[Any]]]
) -> int:
    """INSERT (left, right, probability, match weight, evidence) rows of `run`;
    left and right are patient ids as 32 hex digits, left < right."""
    evidence: Any = CandidatePair._meta.get_field("evidence")
    run_id = sqlrows.param(CandidatePair, "run_id", run.pk)
    native = connection.features.has_native_uuid_field

    def key(hexes: str) -> Any:
        return uuid.UUID(hex=hexes) if native else hexes

    params = [
        (run_id, key(left), key(right), prob, weight,
         evidence.get_db_prep_save(ev, connection), None, None)
        for left, right, prob, weight, ev in rows
    ]  # fmt: skip
    if not params:
        return 0
    cols = ", ".join(_column(name) for name in _INSERTED)
    marks = ", ".join(["%s"] * len(_INSERTED))
    sql = f"INSERT INTO {_qn(CandidatePair._meta.db_table)} ({cols}) VALUES ({marks})"  # noqa: S608
    with sqlrows.cursor(connection) as cur:
        for start in range(0, len(params), 5000):
            cur.executemany(sql, params[start : start + 5000])
    return len(params)


def pairs_by_probability(run: LinkageRun) -> list[tuple[Any, Any, Any]]:
    """(pair id, left, right) of the run, most probable first, then by the ids (the
    order CandidatePair's Meta gives); ids as the database returns them."""
    table = _qn(CandidatePair._meta.db_table)
    sql = (
        f"SELECT {_pk()}, {_column('left_id')}, {_column('right_id')} "  # noqa: S608
        f"FROM {table} WHERE {_column('run_id')} = %s "
        f"ORDER BY {_column('probability')} DESC, {_column('left_id')}, "
        f"{_column('right_id')}"
    )
    with sqlrows.cursor(connection) as cur:
        cur.execute(sql, [sqlrows.param(CandidatePair, "run_id", run.pk)])
        return [tuple(row) for row in cur.fetchall()]


def set_clusters(updates: Sequence[tuple[int, Any]]) -> None:
    """UPDATE each pair's cluster: (cluster, pair id) rows."""
    table = _qn(CandidatePair._meta.db_table)
    sql = f"UPDATE {table} SET {_column('cluster')} = %s WHERE {_pk()} = %s"  # noqa: S608
    with sqlrows.cursor(connection) as cur:
        for start in range(0, len(updates), 5000):
            cur.executemany(sql, list(updates[start : start + 5000]))
