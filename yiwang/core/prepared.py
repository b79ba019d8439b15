"""Prepared statements for the few hot statements that run on every request of a kind.

Django binds parameters on the client and never prepares on PostgreSQL (``prepare_threshold``
is off so that connection poolers work), so PostgreSQL parses and plans every statement anew:
for the gateway's lookup, a join of four tables, planning costs more than running it. Inside
``cursor()`` a statement is bound on the server and prepared on its first run on a connection
(``PREPARE`` once, then only ``EXECUTE`` with the values): for SQL built once from model metadata
and run with different values, never for SQL that embeds values.

Prepared statements live in a database session, so a pooler between the app and PostgreSQL must
keep them: PgBouncer in session mode, or in transaction mode from 1.21 with
``max_prepared_statements`` set. ``YIWANG_PREPARED_STATEMENTS=0`` (docs/configuration.md) turns
them off (the same statements, bound on the client). On SQLite ``cursor()`` is Django's cursor: the
sqlite3 module keeps compiled statements itself.

Statements still go through Django's cursor wrapper: they are logged (as written, with their
placeholders), counted by ``CaptureQueriesContext`` and seen by ``execute_wrapper`` like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


def _classes_for_postgresql() -> tuple[type, type]:
    from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor
    from django.db.backends.utils import CursorWrapper

    class PreparingCursor(ServerBindingCursor):
        """Binds on the server and prepares every statement it runs (once per connection)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    class DebugWrapper(CursorDebugWrapper):
        """Logs the statement as written (placeholders, not values): a prepared execution has
        no text of its own to show."""

        def execute(self, sql, params=None):
            with self.debug_sql(sql, params):
                return CursorWrapper.execute(self, sql, params)

    return PreparingCursor, DebugWrapper


_classes: dict[str, type] = {}
_ONLY_WHEN_ASKED = 2**31 - 1


def enabled() -> bool:
    """Whether statements run through ``cursor()`` are prepared (PostgreSQL and not turned off)."""
    return connection.vendor == "postgresql" and getattr(settings, "PREPARED_STATEMENTS", True)


@contextmanager
def cursor() -> Iterator:
    """A cursor (Django's wrapper) whose statements PostgreSQL prepares once per connection; on
    SQLite, or with prepared statements turned off, Django's own cursor."""
    if not enabled():
        with connection.cursor() as plain:
            yield plain
        return
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if "pg" not in _classes:
        _classes["pg"], _classes["debug"] = _classes_for_postgresql()
    with connection.wrap_database_errors:
        session = connection.connection
        if session.prepare_threshold is None:
            # Django turns preparing off for the session (None), which psycopg honours even for an
            # explicit prepare. Django's own cursors bind on the client and never prepare, so a
            # threshold no statement reaches lets through only this cursor's explicit prepares.
            session.prepare_threshold = _ONLY_WHEN_ASKED
        raw = _classes["pg"](session)
    # as Django wraps its own cursors (``_prepare_cursor``): thread checks, query logging and
    # execute wrappers as for every other statement
    connection.validate_thread_sharing()
    wrapped = _classes["debug"](raw, connection) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped:
        yield wrapped
