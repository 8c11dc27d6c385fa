"""Instances of several models from one hand-written query, built as the ORM builds them.

For the API's hot paths (api.services.api_key_find, consents.selectors.consent_checks): the ORM
compiles a query anew at every call, about 1 ms for a join with a subquery, several times the
query itself. A hand-written query is not compiled. Its columns are the models' own, read from
their ``_meta``, and every value goes through the converters the ORM would apply (SQLite's dates
as text, JSON, phone numbers), so the instances are those ``.get()`` would return; fields left
out load on first use, as with ``.only()``. On PostgreSQL the statement is also prepared once per
connection (``run``).
"""

import time
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connection, connections


def run(sql: str, params) -> list[tuple]:
    """The rows of one query. On PostgreSQL, with the parameters bound by the server and the
    statement prepared once per connection (connections live CONN_MAX_AGE): Django's own cursor
    binds on the client, so PostgreSQL plans every call afresh, which cost more than running it.
    Write ``%s`` placeholders; ``= ANY(%s)`` takes a list there."""
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy costs a lookup per use
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    import psycopg

    db.ensure_connection()
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off (its cursors bind on the client and never prepare); a
        # threshold no query reaches prepares only what asks for it here.
        raw.prepare_threshold = 2**31 - 1
    started = time.monotonic()
    with db.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        rows = cursor.fetchall()
    if db.queries_logged:  # seen as Django's own queries are (tests, debug pages)
        db.queries_log.append(
            {"sql": f"{sql} -- {params!r}", "time": f"{time.monotonic() - started:.3f}"}
        )
    return rows


def in_list(values: list) -> tuple[str, list]:
    """``(sql, params)`` for "column <sql>" meaning "column is one of ``values``": ``IN (%s, ...)``;
    on PostgreSQL ``= %s`` for one value, else ``= ANY(%s)``, one prepared statement for any
    count (for one value a plan PostgreSQL keeps: with an array it plans every call afresh)."""
    values = list(values)
    if connection.vendor != "postgresql":
        return f"IN ({', '.join(['%s'] * len(values))})", values
    return ("= %s", values) if len(values) == 1 else ("= ANY(%s)", [values])


@dataclass
class Part:
    """One model's columns in the query, under a table alias; ``fields`` None means all."""

    model: type
    alias: str
    fields: tuple[str, ...] | None = None
    _columns: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self):
        wanted = set(self.fields) if self.fields else None
        self._columns = [
            f
            for f in self.model._meta.concrete_fields
            if wanted is None or f.name in wanted or f.attname in wanted or f.primary_key
        ]

    @property
    def pk_index(self) -> int:
        return next(i for i, f in enumerate(self._columns) if f.primary_key)

    def sql(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self._columns)


class Rows:
    """``Rows(Part(...), Part(...))``: ``select`` is the column list to put in the query;
    ``fetch(sql, params)`` runs it and gives, per row, one instance per part (None where a
    LEFT JOIN found nothing)."""

    def __init__(self, *parts: Part):
        self.parts = parts
        self.select = ", ".join(part.sql() for part in parts)
        self._converters = None

    def _prepare(self):
        converters = []
        for part in self.parts:
            for f in part._columns:
                column = f.get_col(part.alias)
                found = connection.ops.get_db_converters(column) + column.get_db_converters(
                    connection
                )
                converters.append((column, found))
        self._converters = converters

    def fetch(self, sql: str, params) -> list[list]:
        if self._converters is None:
            self._prepare()
        return [self._build(row) for row in run(sql, params)]

    def _build(self, row) -> list:
        values = list(row)
        for index, (column, converters) in enumerate(self._converters):
            value = values[index]
            for converter in converters:
                value = converter(value, column, connection)
            values[index] = value
        built, start = [], 0
        for part in self.parts:
            count = len(part._columns)
            mine = values[start : start + count]
            start += count
            if mine[part.pk_index] is None:  # a LEFT JOIN found nothing
                built.append(None)
                continue
            names = [f.attname for f in part._columns]
            built.append(part.model.from_db(connection.alias, names, mine))
        return built
