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
ends a worker's session between two requests."""

import select
import time

import psycopg
from django_prometheus.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

PROVEN_FOR_SECONDS = 1.0


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
