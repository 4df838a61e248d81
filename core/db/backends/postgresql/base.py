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

It also runs the hot look-ups of core.compiled_queries as statements PostgreSQL parses and
plans once per connection (execute_prepared): planning the detail's query cost the server more
than running it (docs/benchmarks.md, section 15). They are prepared in SQL (PREPARE, then
EXECUTE with the values bound on the client, as Django binds every query), not by psycopg:
psycopg deallocates every statement it prepared at each rollback (a booking refused with a
409, a savepoint rolled back), after which each would be parsed and planned again, one more
round trip each; PostgreSQL keeps a PREPAREd statement for the whole session, whatever rolls
back. psycopg itself never prepares here (Django passes prepare_threshold=None), so it never
sends the DEALLOCATE ALL that would drop these too."""

import functools
import hashlib
import re
import select
import time
import weakref

import psycopg
from django_prometheus.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

PROVEN_FOR_SECONDS = 1.0
# Django's placeholders: %s is a parameter, %% a literal percent sign.
_PLACEHOLDER = re.compile(r"%[s%]")


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

    def execute_prepared(self, cursor, sql: str, params: list) -> None:
        """Run Django's `sql` with `params` on `cursor` (this connection's) as a statement
        prepared in this session: the first time, PREPARE and EXECUTE in one round trip;
        afterwards EXECUTE alone. Without PREPARED_STATEMENTS, a plain execute.

        A statement is named by a hash of its SQL, so a name means one query in every
        session, and what this session knows of its statements is kept with the session
        itself (a pooled connection handed out again keeps it). After any error, whether the
        session still holds the statement, and whether it still fits its tables (a migration
        that changed a column's type makes it fail for good), is unknown: the next use drops
        it, if it exists, and prepares it again, in the same round trip."""
        if not self.prepares_statements:
            cursor.execute(sql, params)
            return
        known = _session_statements(self.connection)
        name = _statement_name(sql)
        arguments = f"({', '.join(['%s'] * len(params))})" if params else ""
        try:
            state = known.get(name)
            if state == _READY:
                cursor.execute(f"EXECUTE {name}{arguments}", params)
                return
            numbers = iter(range(1, len(params) + 1))
            body = _PLACEHOLDER.sub(
                lambda match: f"${next(numbers)}" if match.group() == "%s" else "%%", sql
            )
            # The reset skips a statement that is not there (a DO block's exception handler).
            reset = _RESET.format(name=name) if state == _UNSURE else ""
            cursor.execute(f"{reset}PREPARE {name} AS {body}; EXECUTE {name}{arguments}", params)
            for _ in range(2 if reset else 1):
                cursor.nextset()  # past the empty results, to EXECUTE's rows
            known[name] = _READY
        except Exception:
            known[name] = _UNSURE
            raise


# What each session knows of its prepared statements (name -> _READY or _UNSURE), kept with
# its psycopg connection.
_SESSIONS: "weakref.WeakKeyDictionary[psycopg.Connection, dict[str, str]]" = (
    weakref.WeakKeyDictionary()
)
_READY, _UNSURE = "ready", "unsure"
_RESET = (
    "DO $reset$ BEGIN EXECUTE 'DEALLOCATE {name}'; "
    "EXCEPTION WHEN invalid_sql_statement_name THEN NULL; END $reset$; "
)


@functools.lru_cache(maxsize=256)
def _statement_name(sql: str) -> str:
    # A hash of a few kilobytes of SQL, once per process for each look-up, not per request.
    return f"hot_{hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:20]}"


def _session_statements(connection: psycopg.Connection) -> dict[str, str]:
    return _SESSIONS.setdefault(connection, {})
