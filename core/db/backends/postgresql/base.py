"""PostgreSQL as django-prometheus instruments it, with a health check that costs a round trip
at most once a second while the connection's socket is quiet.

Django's health check (CONN_HEALTH_CHECKS) sends `SELECT 1` before the first query of every
request that reuses a connection: a round trip, and two context switches on a busy host, on
every request. A server that ends a session (a restart, pg_terminate_backend,
idle_session_timeout, a pooler closing it) writes an error and closes the socket, which makes
it readable; a server that vanishes without a word (a crashed host, an address moved to
another one) does not, and only a round trip finds out. So a connection skips the round trip
only while its socket has nothing to read and a round trip proved it alive less than
PROVEN_FOR_SECONDS ago: a busy worker sends `SELECT 1` about once a second instead of once per
request, and an idle one before each request as before. core/tests/test_db_health_check.py
ends a worker's session between two requests.

It also gives the hot look-ups of core.compiled_queries a cursor whose statements PostgreSQL
parses and plans once per connection (prepared_cursor): planning the detail's query cost the
server more than running it (docs/benchmarks.md, section 15). Django's own cursors keep binding
on the client, which never prepares."""

import functools
import select
import time

import psycopg
from django.db.backends.postgresql.psycopg_any import (  # type: ignore[import-untyped]
    register_tzloader,
)
from django_prometheus.db.backends.postgresql import base
from django_prometheus.db.common import ExportingCursorWrapper
from psycopg.pq import Format, TransactionStatus

PROVEN_FOR_SECONDS = 1.0
TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
# psycopg prepares a statement executed this many times on a server-binding cursor. Only
# prepared_cursor's cursors bind on the server, and they prepare at once; the count is never
# reached, but it must not be None, which turns preparing off for the whole connection.
_PREPARE_WHEN_ASKED_ONLY = 2**31 - 1


class _PreparingCursor(psycopg.Cursor):
    """Binds on the server and prepares every statement it runs (psycopg keeps at most
    `prepared_max` per connection, the least recently used deallocated first). Django's own
    server-binding cursor class adds only callproc(), which nothing here calls."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseWrapper(base.DatabaseWrapper):
    _proven_at: float | None = None

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        proven_at = self._proven_at
        if proven_at is not None and time.monotonic() - proven_at < PROVEN_FOR_SECONDS:
            try:
                if connection.info.transaction_status == TransactionStatus.IDLE:
                    poller = select.poll()
                    poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
                    if not poller.poll(0):
                        return True
            except (OSError, psycopg.Error):
                pass  # no socket to look at: the round trip decides
        usable = super().is_usable()
        self._proven_at = time.monotonic() if usable else None
        return usable

    def close(self):
        self._proven_at = None
        super().close()

    @property
    def prepares_statements(self) -> bool:
        # The PREPARED_STATEMENTS key of the database's settings (DATABASE_PREPARED_STATEMENTS).
        return bool(self.settings_dict.get("PREPARED_STATEMENTS"))

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.prepares_statements:
            connection.prepare_threshold = _PREPARE_WHEN_ASKED_ONLY
        return connection

    def prepared_cursor(self):
        """A cursor, as cursor() gives, whose statements are prepared on the server: for a
        statement run with many values on every connection (one shape, as CompiledQuery's).
        Without PREPARED_STATEMENTS, the plain cursor()."""
        if not self.prepares_statements:
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = self._preparing_cursor_class(self.connection)
            # As Django's create_cursor: the connection's time zone for timestamps.
            loader = self.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
            if self.timezone != loader.timezone:
                register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)

    @functools.cached_property
    def _preparing_cursor_class(self):
        # Counted by django-prometheus like every other cursor of this database.
        return ExportingCursorWrapper(_PreparingCursor, self.alias, self.vendor)
