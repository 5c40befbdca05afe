"""Set-based writes and reads for batches: the project's only hand-built SQL.

The sync writes batches of hundreds of rows per transaction. For those, Django's
`bulk_create` / `bulk_update` spend more time preparing every value of every row in
Python (and `bulk_update` building a `CASE` per field and row) than PostgreSQL spends
running the statement; `bench/bench_bulk.py` measures each function here against
Django's own call on the same rows (figures in bench/README.md). Each function takes a
model and field names, so no domain module builds SQL or asks which database it runs on:

- `insert(model, objs)`: new rows in one `INSERT ... SELECT FROM unnest(...)`;
- `update(model, objs, names)`: `names` of existing rows, by primary key, in one
  `UPDATE ... FROM (VALUES ...)`;
- `upsert(model, names, rows, unique=..., update=...)`: `INSERT ... SELECT FROM unnest(...)
  ON CONFLICT (unique) DO UPDATE`;
- `select(model, names, key=..., values=..., where=...)`: the rows whose `key` is one of
  `values` (and that match `where`), one index probe per value (a LATERAL join).

On PostgreSQL each runs its statement; elsewhere (SQLite in the embedded default) the ORM
call that does the same. `native` forces one branch, so the parity tests
(`project/tests/test_bulk.py`) run both against PostgreSQL and compare the rows.
Identifiers come from the model's meta and are quoted; every value is a parameter.
"""

import json
from collections.abc import Iterable, Sequence
from enum import Enum

from django.db import connection
from django.db.models import AutoField, BigAutoField, JSONField, SmallAutoField
from django.utils import timezone

BATCH_SIZE = 500  # rows per statement on the ORM branch
_AUTO = (AutoField, BigAutoField, SmallAutoField)


def _native(native: bool | None) -> bool:
    if native is None:
        return connection.vendor == "postgresql"
    if native and connection.vendor != "postgresql":
        raise ValueError("the native branch of project.db.bulk needs PostgreSQL")
    return native


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _plain(field, value):
    """An attribute's value as the unnest arrays take it: choices as their plain value,
    JSON as text; everything else (UUIDs, numbers, dates, strings) as it is."""
    if isinstance(field, JSONField):
        return None if value is None else json.dumps(value, cls=field.encoder)
    return value.value if isinstance(value, Enum) else value


def _unnest(fields) -> str:
    return ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)


def insert(model, objs: Sequence, *, native: bool | None = None) -> None:
    """Insert new `objs` of `model` (one statement). `auto_now` / `auto_now_add` fields
    are set to now on the objects too, as `bulk_create` sets them. An auto-increment
    primary key left empty is given by the database and not read back."""
    if not objs:
        return
    if not _native(native):
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        return
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, _AUTO) and objs[0].pk is None)
    ]
    stamped = [
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    now = timezone.now()
    for obj in objs:
        for name in stamped:
            setattr(obj, name, now)
    columns = [[_plain(f, getattr(obj, f.attname)) for obj in objs] for f in fields]
    names = ", ".join(_quote(f.column) for f in fields)
    sql = f"INSERT INTO {_quote(model._meta.db_table)} ({names}) SELECT * FROM unnest({_unnest(fields)})"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def update(model, objs: Sequence, names: Sequence[str], *, native: bool | None = None) -> int:
    """Write the fields `names` of `objs` (rows of `model`, matched by primary key) in
    one statement. Returns the number of rows matched (objects whose row is gone are
    not counted)."""
    if not objs:
        return 0
    if not _native(native):
        return model.objects.bulk_update(objs, names, batch_size=BATCH_SIZE)
    fields = [model._meta.get_field(name) for name in names]
    pk = model._meta.pk
    columns = [pk, *fields]
    row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in columns) + ")"
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objs for f in columns
    ]
    sets = ", ".join(f"{_quote(f.column)} = v.{_quote(f.column)}" for f in fields)
    names_sql = ", ".join(_quote(f.column) for f in columns)
    table, key = _quote(model._meta.db_table), _quote(pk.column)
    sql = (
        f"UPDATE {table} AS t SET {sets} FROM (VALUES {', '.join([row] * len(objs))}) "  # noqa: S608
        f"AS v({names_sql}) WHERE t.{key} = v.{key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def upsert(
    model,
    names: Sequence[str],
    rows: Sequence[tuple],
    *,
    unique: Sequence[str],
    update: Sequence[str],
    native: bool | None = None,
) -> None:
    """Insert `rows` (tuples of the fields `names`, as attribute values: `connection_id`
    or `connection` as an id); a row whose `unique` fields match an existing row updates
    that row's `update` fields instead. One statement."""
    if not rows:
        return
    if not _native(native):
        objs = [model(**dict(zip(names, row, strict=True))) for row in rows]
        model.objects.bulk_create(
            objs,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=list(unique),
            update_fields=list(update),
        )
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    columns = [
        [_plain(f, value) for value in column]
        for f, column in zip(fields, zip(*rows, strict=True), strict=True)
    ]
    names_sql = ", ".join(_quote(f.column) for f in fields)
    conflict = ", ".join(_quote(meta.get_field(name).column) for name in unique)
    sets = ", ".join(
        f"{_quote(meta.get_field(name).column)} = EXCLUDED.{_quote(meta.get_field(name).column)}"
        for name in update
    )
    sql = (
        f"INSERT INTO {_quote(meta.db_table)} ({names_sql}) "  # noqa: S608
        f"SELECT * FROM unnest({_unnest(fields)}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)


def select(
    model,
    names: Sequence[str],
    *,
    key: str,
    values: Iterable,
    where: dict | None = None,
    native: bool | None = None,
) -> list[tuple]:
    """The fields `names` (as tuples) of the rows of `model` whose `key` is one of
    `values` and whose fields equal `where` (`{name: value}`), at most one row per
    value: meant for a key that is unique together with `where`.

    On PostgreSQL each value is one index probe (a LATERAL join over the array of
    values): `key IN (...)` lets the planner scan every row that matches `where` and
    filter when the table's statistics are stale (a first sync filling it)."""
    values = list(values)
    where = where or {}
    if not values:
        return []
    if not _native(native):
        return list(model.objects.filter(**where, **{f"{key}__in": values}).values_list(*names))
    meta = model._meta
    key_field = meta.get_field(key)
    conditions = [f"x.{_quote(key_field.column)} = r.value"]
    params = [[_plain(key_field, value) for value in values]]
    for name, value in where.items():
        field = meta.get_field(name)
        conditions.append(f"x.{_quote(field.column)} = %s")
        params.append(field.get_db_prep_value(getattr(value, "pk", value), connection))
    columns = ", ".join(f"l.{_quote(meta.get_field(name).column)}" for name in names)
    sql = (
        f"SELECT {columns} FROM unnest(%s::{key_field.db_type(connection)}[]) AS r(value) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT * FROM {_quote(meta.db_table)} AS x "
        f"WHERE {' AND '.join(conditions)} LIMIT 1) AS l"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]
