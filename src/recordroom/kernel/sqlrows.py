"""Model rows read and written with small, parameterised plain SQL, for hot paths.

Why: on the HL7 listener's path the ORM spends ten to thirty times the query itself
building and compiling each small query (a facility by code: 0.30 ms through the
ORM, 0.011 ms as SQL; docs/performance.md, HL7 ADT). These helpers give the same
rows and values as the ORM does: what is read goes through the backend's and the
fields' own converters into `Model.from_db`, and what is written is prepared by each
field (`pre_save`, `get_db_prep_save`) as `save()` prepares it. Like `bulk_create`
they send no signals (the house uses none). Callers write the SQL: columns come from
`columns()`, values from `param()`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db import connection as default_connection
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.models.sql import Query

M = TypeVar("M", bound=models.Model)

# (alias, model) -> [(position, converters, column expression)]. The converters are
# the backend's and the fields' (text to UUID or datetime on SQLite, JSON ...); they
# take the connection as an argument and depend only on the alias's settings.
_CONVERTERS: dict[tuple[str, type[models.Model]], list[tuple[int, list[Any], Any]]] = {}


def _connection(model: type[models.Model], *, write: bool = False) -> Any:
    alias = router.db_for_write(model) if write else router.db_for_read(model)
    return _wrapper(alias)


_WRAPPERS = threading.local()  # alias -> this thread's connection wrapper


def _wrapper(alias: str) -> Any:
    """`connections[alias]`, remembered for this thread. Django gives each thread one
    wrapper per alias for the thread's life (it opens, closes and reopens the
    database connection inside it, never replacing it), and each look-up through its
    asgiref Local costs microseconds: the HL7 path made about a hundred a message."""
    found = _WRAPPERS.__dict__.get(alias)
    if found is None:
        found = _WRAPPERS.__dict__[alias] = connections[alias]
    return found


class _SQLiteCursor:
    """A cursor straight on the SQLite connection for the hot paths: what Django's
    cursor wrapper does per statement (placeholder rewriting, thread and transaction
    checks, error translation) done once per SQL text or kept, at a quarter of its
    cost (17.8 against 4.6 microseconds for a one-row SELECT; an HL7 message runs
    about 25 statements)."""

    _SQL: dict[str, str] = {}  # Django's "%s" SQL -> SQLite's "?" SQL

    def __init__(self, connection: Any) -> None:
        self._db = connection
        self._cursor = connection.connection.cursor()

    def _sql(self, sql: str) -> str:
        found = self._SQL.get(sql)
        if found is None:
            found = _QMARK.sub("?", sql).replace("%%", "%")
            if len(self._SQL) < 512:  # the few statements a hot path repeats
                self._SQL[sql] = found
        return found

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._db.validate_no_broken_transaction()
        with self._db.wrap_database_errors:
            return self._cursor.execute(self._sql(sql), params)

    def executemany(self, sql: str, param_list: Sequence[Sequence[Any]]) -> Any:
        self._db.validate_no_broken_transaction()
        with self._db.wrap_database_errors:
            return self._cursor.executemany(self._sql(sql), param_list)

    def fetchall(self) -> list[Any]:
        with self._db.wrap_database_errors:
            return self._cursor.fetchall()

    def fetchone(self) -> Any:
        with self._db.wrap_database_errors:
            return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    def __enter__(self) -> _SQLiteCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()


_QMARK = re.compile(r"(?<!%)%s")


def cursor(connection: Any = None) -> Any:
    """A cursor for small parameterised statements (`%s` placeholders), used as
    `with sqlrows.cursor(connection) as cur:`. On an open SQLite connection with
    nothing watching its queries (no debug cursor, no execute wrappers) it is the
    fast cursor above; otherwise Django's own."""
    if connection is None or connection is default_connection:
        # the wrapper itself: each attribute read through django.db.connection
        # looks the thread's connection up again (asgiref.Local, microseconds each)
        connection = _wrapper(DEFAULT_DB_ALIAS)
    if (
        connection.vendor == "sqlite"
        and connection.connection is not None
        and not connection.queries_logged
        and not connection.execute_wrappers
    ):
        return _SQLiteCursor(connection)
    return connection.cursor()


def columns(model: type[models.Model], alias: str = "") -> str:
    """The model's concrete columns in field order, as `alias.col, ...`."""
    key = (model, alias)
    found = _COLUMNS.get(key)
    if found is None:
        qn = _connection(model).ops.quote_name
        prefix = f"{alias}." if alias else ""
        found = ", ".join(prefix + qn(f.column) for f in model._meta.concrete_fields)
        _COLUMNS[key] = found
    return found


_COLUMNS: dict[tuple[type[models.Model], str], str] = {}


def param(model: type[models.Model], attname: str, value: Any) -> Any:
    """`value` as a query parameter for the column of `model.attname` (a UUID is
    hex text on SQLite, a date ISO text ...)."""
    field: Any = model._meta.get_field(attname)  # a foreign key by its attname too
    return field.get_db_prep_value(value, _connection(model), prepared=False)


def _converters(
    connection: Any, model: type[models.Model]
) -> list[tuple[int, list[Any], Any]]:
    key = (connection.alias, model)
    found = _CONVERTERS.get(key)
    if found is None:
        table = model._meta.db_table
        cols = [f.get_col(table) for f in model._meta.concrete_fields]
        compiler = Query(model).get_compiler(connection=connection)
        found = [
            (pos, convs, expr)
            for pos, (convs, expr) in compiler.get_converters(cols).items()
        ]
        _CONVERTERS[key] = found
    return found


def fetch(
    sql: str, params: Sequence[Any], *models_: type[models.Model]
) -> list[tuple[Any, ...]]:
    """Run a SELECT whose columns are `columns(m)` of each model in turn; each row
    as a tuple of instances, one per model."""
    connection = _connection(models_[0])
    layout = []
    start = 0
    for model in models_:
        width = len(model._meta.concrete_fields)
        layout.append((model, start, width, _converters(connection, model)))
        start += width
    with cursor(connection) as cursor_:
        cursor_.execute(sql, params)
        rows = cursor_.fetchall()
    out = []
    for row in rows:
        items = []
        for model, begin, width, convs in layout:
            values = list(row[begin : begin + width])
            for pos, funcs, expr in convs:
                value = values[pos]
                for func in funcs:
                    value = func(value, expr, connection)
                values[pos] = value
            items.append(instance(model, connection.alias, values))
        out.append(tuple(items))
    return out


def instance(model: type[M], alias: str, values: Sequence[Any]) -> M:
    """The instance of a row read from `alias` (values in `concrete_fields` order,
    converted), as `Model.from_db` builds it, without `Model.__init__`'s loop of
    descriptor writes when no pre_init/post_init receiver listens for the model (the
    house connects none): its fields go straight into the instance's __dict__, which
    is where __init__ puts them (a foreign key's attname included)."""
    names = _ATTNAMES.get(model)
    if names is None:
        plain = not (
            signals.pre_init.has_listeners(model)
            or signals.post_init.has_listeners(model)
        )
        names = _ATTNAMES[model] = (
            tuple(f.attname for f in model._meta.concrete_fields) if plain else ()
        )
    if not names:
        return model.from_db(alias, None, values)  # type: ignore[arg-type]
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    fields = dict(zip(names, values, strict=True))
    fields["_state"] = state
    obj.__dict__ = fields
    return obj


_ATTNAMES: dict[type[models.Model], tuple[str, ...]] = {}


def new(model: type[M], **values: Any) -> M:
    """A new, unsaved instance, as `model(**values)` builds it, at a third of the cost
    on the hot paths (the HL7 listener builds five a message; `Model.__init__` with
    keywords walks every field through its descriptor). Fields not given take their
    defaults; a foreign key takes its object (cached on the instance, as the
    descriptor caches it) or its id by attname. Anything else is refused as
    `model()` refuses it. Models with pre_init/post_init receivers (the house has
    none) go the long way."""
    plan = _NEW.get(model)
    if plan is None:
        plan = _NEW[model] = _new_plan(model)
    if not plan:
        return model(**values)
    obj = model.__new__(model)
    state = ModelState()
    fields: dict[str, Any] = {"_state": state}
    cache: dict[str, Any] | None = None
    for attname, name, target, default in plan:
        if target is not None and name in values:  # a foreign key's object
            related = values.pop(name)
            if related is not None and not isinstance(related, target[0]):
                raise ValueError(
                    f'Cannot assign "{related!r}": "{model.__name__}.{name}" must '
                    f'be a "{target[0].__name__}" instance.'
                )
            if related is None:
                fields[attname] = None
            else:  # as the descriptor does: both sides on the default database
                fields[attname] = getattr(related, target[1])
                state.db = state.db or DEFAULT_DB_ALIAS
                related._state.db = related._state.db or DEFAULT_DB_ALIAS
            if cache is None:
                cache = state.fields_cache
            cache[name] = related
        elif attname in values:
            fields[attname] = values.pop(attname)
        elif name in values:
            fields[attname] = values.pop(name)
        else:
            fields[attname] = default()
    if values:
        unexpected = ", ".join(sorted(values))
        raise TypeError(f"{model.__name__}() got unexpected keyword arguments: "
                        f"{unexpected}")  # fmt: skip
    obj.__dict__ = fields
    return obj


def _new_plan(model: type[models.Model]) -> list[tuple[str, str, Any, Any]]:
    """Per concrete field: attname, name, (related model, its key's attname) for a
    foreign key, and the default's maker; empty when `new` must call __init__."""
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return []
    plan = []
    for f in model._meta.concrete_fields:
        keys: Any = getattr(f, "foreign_related_fields", ())
        if f.generated or f.one_to_one or (f.is_relation and len(keys) != 1):
            return []  # the long way: reverse caches, composite keys
        target = None
        if f.is_relation:
            target = (f.related_model, keys[0].attname)
        plan.append((f.attname, f.name, target, f.get_default))
    return plan


_NEW: dict[type[models.Model], list[tuple[str, str, Any, Any]]] = {}


def fetch_first(sql: str, params: Sequence[Any], model: type[M]) -> M | None:
    """The first row of `fetch` for one model, or None."""
    rows = fetch(sql, params, model)
    return rows[0][0] if rows else None


def for_update(model: type[models.Model]) -> str:
    """ " FOR UPDATE" where the database locks rows (PostgreSQL), else nothing (SQLite
    transactions hold the database's write lock already), as select_for_update."""
    features = _connection(model, write=True).features
    return " FOR UPDATE" if features.has_select_for_update else ""


def insert(objs: Iterable[models.Model]) -> None:
    """INSERT new instances, one statement per model (in first-seen order), as
    `save(force_insert=True)` would each: auto_now fields set, related objects'
    keys taken, auto-increment keys read back onto the instances."""
    groups: dict[type[models.Model], list[models.Model]] = {}
    for obj in objs:
        groups.setdefault(type(obj), []).append(obj)
    for model, group in groups.items():
        _insert(model, group)


def _insert_plan(
    connection: Any, model: type[models.Model], count: int
) -> tuple[list[Any], str, Any, list[Any]]:
    """The fields an INSERT of `count` rows writes, its SQL, the key read back (an
    auto-increment primary key, else None), and each field's shortcut (`_shortcut`)."""
    key = (connection.alias, model, count)
    found = _INSERTS.get(key)
    if found is None:
        meta = model._meta
        pk = meta.pk
        returning = (
            pk if pk is not None and getattr(pk, "db_returning", False) else None
        )
        fields = [f for f in meta.local_concrete_fields if f is not returning]
        qn = connection.ops.quote_name
        marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {qn(meta.db_table)} "
            f"({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES {', '.join([marks] * count)}"  # noqa: S608
        )
        if returning is not None:
            sql += f" RETURNING {qn(returning.column)}"
        found = (fields, sql, returning, [_shortcut(f, connection) for f in fields])
        if count <= 32:  # the few shapes a hot path repeats
            _INSERTS[key] = found
    return found


_INSERTS: dict[
    tuple[str, type[models.Model], int], tuple[list[Any], str, Any, list[Any]]
] = {}

def _shortcut(field: Any, connection: Any) -> tuple[type, Any] | None:
    """(type, adapt) when a value of exactly that type in this field is written as
    `adapt(value)` (None: as it is), which is what the field's `pre_save` and
    `get_db_prep_save` make of it, at a fraction of their generic cost (they were the
    largest part of an INSERT on the HL7 path). Only fields whose pre_save reads the
    attribute: no auto_now, no subclasses with their own conversions. Anything else,
    or a value of another type (a TextChoices member, a lazy string, a naive
    datetime), goes the long way."""
    ops = connection.ops
    kind = type(field)
    target = field
    if field.is_relation:  # a plain foreign key writes its target field's value
        if kind is not models.ForeignKey or len(field.foreign_related_fields) != 1:
            return None
        target = field.target_field
        kind = type(target)
    if kind in (models.CharField, models.TextField, models.BooleanField):
        return ({models.BooleanField: bool}.get(kind, str), None)
    if kind is models.UUIDField:
        native = connection.features.has_native_uuid_field
        return (UUID, None if native else _hex)
    if kind in (models.AutoField, models.BigAutoField, models.SmallAutoField):
        return (int, ops.validate_autopk_value)  # no integer adaptation for keys
    if kind in (models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                models.PositiveIntegerField, models.PositiveSmallIntegerField,
                models.PositiveBigIntegerField):  # fmt: skip
        internal = target.get_internal_type()
        return (int, lambda v: ops.adapt_integerfield_value(v, internal))
    if kind is models.FloatField:
        return (float, None)
    if kind is models.DateField and not (target.auto_now or target.auto_now_add):
        return (date, ops.adapt_datefield_value)
    if kind is models.DateTimeField and not (target.auto_now or target.auto_now_add):
        return (datetime, lambda v: (ops.adapt_datetimefield_value(v)
                                     if v.tzinfo is not None else _LONG_WAY))  # fmt: skip
    return None


def _hex(value: UUID) -> str:
    return value.hex


_LONG_WAY = object()  # a shortcut's answer: this value goes the long way


def _insert(model: type[models.Model], objs: list[models.Model]) -> None:
    connection = _connection(model, write=True)
    fields, sql, returning, shortcuts = _insert_plan(connection, model, len(objs))
    relations = _relations(model)
    rows: list[Any] = []
    for obj in objs:
        if relations is None:
            obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
        elif relations:
            _take_related_keys(obj, relations)
        rows += row_values(obj, fields, shortcuts, connection)
    with cursor(connection) as cursor_:
        cursor_.execute(sql, rows)
        if returning is not None:  # in insertion order, as bulk_create relies on
            for obj, (key,) in zip(objs, cursor_.fetchall(), strict=True):
                setattr(obj, returning.attname, key)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _relations(model: type[models.Model]) -> list[tuple[str, str, str, Any]] | None:
    """The model's foreign keys as (name, attname, the target's attname, empty
    values), or None when Django's own check must run (generic relations)."""
    found = _RELATIONS.get(model, _RELATIONS)
    if found is _RELATIONS:
        meta = model._meta
        found = None if meta.private_fields else [
            (f.name, f.attname, f.target_field.attname, f.empty_values)  # type: ignore[attr-defined]
            for f in meta.concrete_fields if f.is_relation
        ]  # fmt: skip
        _RELATIONS[model] = found
    return found  # type: ignore[return-value]


_RELATIONS: dict[type[models.Model], Any] = {}


def _take_related_keys(obj: models.Model, relations: list[tuple[str, str, str, Any]]) -> None:
    """What Model._prepare_related_fields_for_save does before an INSERT, for plain
    foreign keys: refuse a related object not saved, take its key when the instance
    has none, forget a cached object whose key is no longer the instance's."""
    cache = obj._state.__dict__.get("fields_cache")
    if not cache:
        return
    values = obj.__dict__
    for name, attname, target, empty in relations:
        related = cache.get(name)
        if related is None:
            continue
        if related.pk is None:
            raise ValueError(
                "save() prohibited to prevent data loss due to unsaved related "
                f"object '{name}'."
            )
        if values.get(attname) in empty:
            values[attname] = getattr(related, target)
        if getattr(related, target) != values.get(attname):
            del cache[name]


def row_values(
    obj: models.Model, fields: list[Any], shortcuts: list[Any], connection: Any
) -> list[Any]:
    """What an INSERT writes for `obj`: each field's value as save() prepares it."""
    values = obj.__dict__
    out: list[Any] = []
    for f, short in zip(fields, shortcuts, strict=True):
        if short is not None:
            value = values.get(f.attname, values)  # itself: not set
            if value is None:
                out.append(None)  # what each of these fields makes of None
                continue
            kind, adapt = short
            if type(value) is kind:
                if adapt is None:
                    out.append(value)
                    continue
                adapted = adapt(value)
                if adapted is not _LONG_WAY:
                    out.append(adapted)
                    continue
        out.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
    return out


def update(model: type[models.Model], pks: Sequence[Any], **changes: Any) -> int:
    """UPDATE the rows of `pks` with `changes` (attribute names), values prepared by
    their fields, as `QuerySet.filter(pk__in=pks).update(...)`; the rows changed."""
    if not pks or not changes:
        return 0
    connection = _connection(model, write=True)
    meta = model._meta
    qn = connection.ops.quote_name
    sets, values = [], []
    for name, value in changes.items():
        field = meta.get_field(name)
        sets.append(f"{qn(field.column)} = %s")  # type: ignore[union-attr]
        values.append(field.get_db_prep_save(value, connection))  # type: ignore[union-attr]
    assert meta.pk is not None
    keys = [meta.pk.get_db_prep_value(pk, connection) for pk in pks]
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {', '.join(sets)} "  # noqa: S608
        f"WHERE {qn(meta.pk.column)} IN ({', '.join(['%s'] * len(keys))})"
    )
    with cursor(connection) as cursor_:
        cursor_.execute(sql, [*values, *keys])
        return int(cursor_.rowcount)
