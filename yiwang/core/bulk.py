"""Fast bulk insertion for benchmarks and large demo data.

COPY on PostgreSQL and one executemany on SQLite: several times faster than ``bulk_create``
for millions of rows. Rows skip ``save()`` and signals on purpose; use only for data whose
invariants the caller has already established (demo generators, the audit log's bulk load).
"""

import functools

from django.db import connection, models

from yiwang.core import prepared

# Exactly these classes (not subclasses, which may change a value on its way to the database),
# and the one type of value each takes as it is.
_TEXT_FIELDS = (models.CharField, models.TextField)
_INTEGER_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


def _plain_type(field: models.Field) -> type | None:
    """The type of value ``field`` stores unchanged on SQLite (str, int), or None."""
    if type(field) is models.ForeignKey:
        field = field.target_field
    if type(field) in _TEXT_FIELDS:
        return str
    if type(field) in _INTEGER_FIELDS:
        return int
    return None


def insert_rows(model: type[models.Model], fields: list[str] | tuple[str, ...], rows: list) -> None:
    """Insert ``rows`` (sequences in ``fields`` order; foreign keys as ids) into ``model``'s table."""
    if not rows:
        return
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    table = connection.ops.quote_name(opts.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            is_json = [isinstance(f, models.JSONField) for f in columns]
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # noqa: S608 — model metadata only
                for row in rows:
                    copy.write_row([Jsonb(v) if j else v for j, v in zip(is_json, row, strict=True)])
        else:
            # A str for a plain text column, an int for a plain integer one (or None for either) go in as they
            # are (what preparing them gives); everything else is prepared by its field.
            plain = [_plain_type(f) for f in columns]
            prepared = [
                [
                    v if t is not None and (v is None or type(v) is t) else f.get_db_prep_save(v, connection)
                    for f, t, v in zip(columns, plain, row, strict=True)
                ]
                for row in rows
            ]
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", prepared)  # noqa: S608


@functools.cache
def _insert_sql(vendor: str, model: type[models.Model], rows: int) -> tuple[str, tuple]:
    """``INSERT ... RETURNING id`` of ``rows`` rows of ``model`` (one row and no RETURNING where the
    database cannot return) and the fields it sets, in order; built once per database vendor."""
    opts = model._meta
    fields = tuple(f for f in opts.local_concrete_fields if not (f.primary_key and f.auto_created))
    q = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = f"INSERT INTO {q(opts.db_table)} ({', '.join(q(f.column) for f in fields)}) VALUES "  # noqa: S608 — model metadata only
    if not connection.features.can_return_columns_from_insert:
        return sql + row, fields
    return f"{sql}{', '.join([row] * rows)} RETURNING {q(opts.pk.column)}", fields


def _row_values(obj: models.Model, fields: tuple) -> list:
    obj._prepare_related_fields_for_save(operation_name="save")
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _mark_saved(obj: models.Model, pk) -> None:
    obj.pk = pk
    obj._state.adding, obj._state.db = False, connection.alias


@functools.cache
def _with_children_sql(vendor: str, model, child, fk: str, value: str) -> tuple[str, tuple]:
    q = connection.ops.quote_name
    parent_sql, fields = _insert_sql(vendor, model, 1)
    opts = child._meta
    fk_col, value_field = opts.get_field(fk).column, opts.get_field(value)
    array_type = value_field.db_type(connection)
    sql = (
        f"WITH parent AS ({parent_sql}), children AS ("  # noqa: S608 — model metadata only
        f"INSERT INTO {q(opts.db_table)} ({q(fk_col)}, {q(value_field.column)}) "
        f"SELECT parent.{q(model._meta.pk.column)}, v FROM parent, unnest(%s::{array_type}[]) AS v"
        f") SELECT {q(model._meta.pk.column)} FROM parent"
    )
    return sql, fields


def insert_with_children(obj: models.Model, child: type[models.Model], fk: str, value: str, values) -> None:
    """Insert ``obj`` (as ``insert_objects``) and one row of ``child`` per item of ``values``, its
    ``fk`` pointing at ``obj`` and its ``value`` field set to the item (a child model of those two
    fields only, nothing listening to its signals). On PostgreSQL one statement (a data-modifying
    ``WITH``, prepared: see ``core.prepared``); elsewhere ``insert_objects`` for each."""
    values = list(values)
    if connection.vendor != "postgresql":
        insert_objects(obj)
        insert_objects(*(child(**{fk: obj, value: v}) for v in values))
        return
    sql, fields = _with_children_sql(connection.vendor, type(obj), child, fk, value)
    value_field = child._meta.get_field(value)
    params = _row_values(obj, fields) + [[value_field.get_db_prep_save(v, connection) for v in values]]
    with prepared.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    _mark_saved(obj, pk)


def insert_objects(*objs: models.Model) -> None:
    """Insert new rows of one model in one prepared statement, as ``bulk_create`` would (defaults,
    ``auto_now`` and foreign keys to rows saved since, prepared by the fields themselves; the ids
    set on the objects in the order of the rows), without the ORM's statement building — for the
    hot paths that write a row or a few per request. No save signals are sent: use it only for
    models nothing listens to. A failing constraint raises IntegrityError as ``save`` does."""
    if not objs:
        return
    returning = connection.features.can_return_columns_from_insert
    sql, fields = _insert_sql(connection.vendor, type(objs[0]), len(objs) if returning else 1)
    rows = [_row_values(obj, fields) for obj in objs]
    with prepared.cursor() as cursor:
        if returning:
            cursor.execute(sql, [value for row in rows for value in row])
            ids = [row[0] for row in cursor.fetchall()]
        else:
            ids = []
            for row in rows:
                cursor.execute(sql, row)
                ids.append(
                    connection.ops.last_insert_id(cursor, objs[0]._meta.db_table, objs[0]._meta.pk.column)
                )
    for obj, pk in zip(objs, ids, strict=True):
        _mark_saved(obj, pk)
