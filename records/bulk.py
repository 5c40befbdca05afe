"""Bulk INSERTs of records tables on PostgreSQL without the ORM's per-value work.

`bulk_create` prepares every value of every row field by field in Python, which costs a
sync batch more than the database's work. `insert_rows` sends the batch as one
`INSERT ... SELECT * FROM unnest(%s::type[], ...)`: one array parameter per column, the
values as the caller already has them (database-ready: primary keys, strings, numbers,
dates, JSON text). PostgreSQL only; callers keep the ORM path for other databases.
"""

from django.db import connection


def insert_rows(model, names: list[str], rows: list[tuple]) -> None:
    """Insert `rows` (one tuple of values per row, in the order of `names`, the columns'
    attnames) into `model`'s table in one statement."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{_array_type(f)}" for f in fields)
    # Identifiers come from the model's meta and are quoted; every value is a parameter.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])


def _array_type(field) -> str:
    return f"{field.db_type(connection)}[]"
