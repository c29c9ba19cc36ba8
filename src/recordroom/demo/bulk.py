"""Insert many model instances with one prepared statement (executemany).

`QuerySet.bulk_create` spends most of a bulk load converting values one at a time
through each field; this picks one converter per column up front, the way the
database backend itself adapts values, and hands the rows to the driver's
executemany. Like bulk_create it runs no model `save()` and no validators: rows come
from the services' builders, which validate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connections, models, router
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


def _converter(field: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    kind = field.get_internal_type()
    if field.is_relation:
        kind = field.target_field.get_internal_type()  # type: ignore[attr-defined]
    ops = connection.ops
    if kind == "UUIDField":
        if connection.features.has_native_uuid_field:
            return lambda v: v
        return lambda v: None if v is None else v.hex
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value  # type: ignore[no-any-return]
    if kind == "DateField":
        return ops.adapt_datefield_value  # type: ignore[no-any-return]
    if kind in (
        "JSONField",
        "BinaryField",
        "DecimalField",
        "TimeField",
        "DurationField",
    ):
        return lambda v: field.get_db_prep_save(v, connection)
    if kind in ("CharField", "TextField"):  # choices enums become their plain value
        return lambda v: v if v is None or type(v) is str else str(v)
    return lambda v: v  # integers, booleans: the driver adapts them


@cache
def _layout(model: type[models.Model]) -> tuple[tuple[str, Any], ...]:
    return tuple((f.attname, f) for f in model._meta.concrete_fields)


def new(model: type[M], **values: Any) -> M:
    """An unsaved instance from attribute values (`patient_id=...`), built the fast
    way Django builds rows read from the database (positional, in field order)."""
    args = [
        values.pop(name) if name in values else field.get_default()
        for name, field in _layout(model)
    ]
    if values:
        raise TypeError(f"{model.__name__} has no field(s) {', '.join(sorted(values))}")
    return model(*args)


def insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT every object's concrete fields (primary keys must already be set)."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    # Auto-increment keys are left to the database (they are not read back).
    fields = [
        f for f in meta.local_concrete_fields if not isinstance(f, models.AutoField)
    ]
    now = timezone.now()
    for field in fields:  # auto_now / auto_now_add, as pre_save would set them
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                setattr(obj, field.attname, now)
    converters = [(field.attname, _converter(field, connection)) for field in fields]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    rows = [
        tuple(conv(getattr(obj, name)) for name, conv in converters) for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
