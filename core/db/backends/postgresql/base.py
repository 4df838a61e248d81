"""PostgreSQL as django-prometheus instruments it, with a health check that costs no round trip
while the connection's socket is quiet.

Django's health check (CONN_HEALTH_CHECKS) sends `SELECT 1` before the first query of every
request that reuses a connection: a round trip, and two context switches on a busy host, on
every request. A server that ends a session (a restart, a failover behind a proxy,
pg_terminate_backend, idle_session_timeout) writes an error and closes the socket, so an idle
connection whose socket has nothing to read has not been ended. Only when something has
arrived does the check fall back to Django's `SELECT 1`, which decides (and reads whatever
came). The same liveness check as go-sql-driver/mysql's before reusing a pooled connection.
core/tests/test_db_health_check.py ends a worker's session between two requests."""

import select

import psycopg
from django_prometheus.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            if connection.info.transaction_status == TransactionStatus.IDLE:
                poller = select.poll()
                poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
                if not poller.poll(0):
                    return True
        except (OSError, psycopg.Error):
            pass  # no socket to look at: the round trip decides
        return super().is_usable()
