"""gunicorn settings, used by `make run`, the cluster test and production alike.

Run from the project directory: `gunicorn config.wsgi:application -c gunicorn.conf.py`.
Values come from the environment (through config/env.py); command-line flags override them."""

import json
import os
import shutil
import tempfile

from gunicorn import glogging, util

from config.env import env_bool, env_int, env_str

# Loopback by default: the reverse proxy on the same host is the only client. In a container
# behind a separate proxy, set GUNICORN_BIND=0.0.0.0:8000 (or unix:/run/booking/app.sock).
bind = [env_str("GUNICORN_BIND") or f"127.0.0.1:{env_int('PORT', default=8000)}"]

# Sync workers: one request per process, and the proxy buffers slow clients. Two per core kept
# both cores busy while requests wait on PostgreSQL at the lowest CPU per request in `make bench`
# (docs/benchmarks.md: more workers or threads only added switching). Each worker keeps one
# database connection open (CONN_MAX_AGE), so in production set WEB_CONCURRENCY explicitly to
# fit the connection budget in docs/deployment.md. sched_getaffinity counts the CPUs this
# process may run on (a cpuset or taskset), not every CPU of the host.
workers = env_int("WEB_CONCURRENCY", default=2 * len(os.sched_getaffinity(0)))
threads = env_int("GUNICORN_THREADS", default=1)
# Import the app once in the master: workers fork with the code already loaded.
preload_app = True

# A worker silent this long is killed and replaced; requests are bounded well below it (the
# database connect timeout, Redis socket timeouts, 1 MiB bodies).
timeout = env_int("GUNICORN_TIMEOUT", default=30)
# On SIGTERM the listening socket closes and in-flight requests get this long to finish.
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
# Recycle each worker after about this many requests (a slow leak cannot grow for ever); the
# jitter keeps all workers from restarting at the same moment.
max_requests = env_int("GUNICORN_MAX_REQUESTS", default=1000)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
# Heartbeat files on tmpfs: a worker blocked on a slow disk is not taken for a hung one.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn >= 25.1 opens a control socket at one fixed path per user by default, which two
# instances on one host would fight over. Nothing here uses gunicornc.
control_socket_disable = not env_bool("GUNICORN_CONTROL_SOCKET", default=False)

# Only the scheme header the proxy sets counts. gunicorn's default also trusts X-Forwarded-Ssl and
# X-Forwarded-Protocol from a trusted address, and answers 400 when they contradict
# X-Forwarded-Proto: a client could make that happen through a proxy that passes them on.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

accesslog = env_str("GUNICORN_ACCESS_LOG", default="-")
errorlog = env_str("GUNICORN_ERROR_LOG", default="-")
loglevel = env_str("GUNICORN_LOG_LEVEL", default="info")


class JsonSafeAtoms(glogging.SafeAtoms):
    """gunicorn's own escaping handles double quotes only; a backslash or a control character
    in a client-chosen path or user agent would still break the JSON line.

    Escaped when the format reads an atom, not for every atom up front: gunicorn passes every
    environ variable and header (~50), the format uses 12, and json.dumps on each cost more
    than the rest of the log line (docs/benchmarks.md)."""

    def __init__(self, atoms):
        dict.__init__(self, atoms)

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if isinstance(value, str):
            return json.dumps(value)[1:-1]
        return "null" if value is None else value


class JsonAccessLogger(glogging.Logger):
    atoms_wrapper_class = JsonSafeAtoms


# One JSON object per line. request_id is the proxy's X-Request-ID, to follow one request
# through the proxy's log and the app's.
logger_class = JsonAccessLogger
access_log_format = (
    '{"time": "%(t)s", "remote_addr": "%(h)s", "forwarded_for": "%({x-forwarded-for}i)s", '
    '"request_id": "%({x-request-id}i)s", "method": "%(m)s", "path": "%(U)s", '
    '"query": "%(q)s", "status": %(s)s, "bytes": %(B)s, "duration_ms": %(M)s, '
    '"user_agent": "%(a)s", "pid": "%(p)s"}'
)


# Prometheus: each worker writes its samples to files in one directory and /metrics sums them
# (prometheus_client's multiprocess mode, which django-prometheus switches to when this variable
# is set). Set here, in the master, so that every worker inherits it before importing the client.
metrics_dir = env_str("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="booking-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir


def on_starting(server):
    # Samples left by a previous run would be summed into this one's.
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Requests gunicorn cannot accept (a malformed request line or header, over 100 header fields or
# a field over 8190 bytes, a request line over 4094, a bad Content-Length or Transfer-Encoding)
# are answered by gunicorn itself, before Django, with an HTML page. gunicorn has no setting for
# that page: every worker's handle_error writes it with gunicorn.util.write_error, replaced here
# by the API's JSON error shape (core/tests/test_gunicorn_errors.py pins the hook and the
# answers). Nothing of the request is echoed back.
GUNICORN_ERRORS = {
    400: ("Bad request: the request line or headers are malformed.", "bad_request"),
    403: ("Forbidden.", "permission_denied"),
    414: ("Request URI is too long.", "uri_too_long"),
    417: ("Expectation failed: only Expect: 100-continue is supported.", "expectation_failed"),
    431: ("Request header fields are too large or too many.", "headers_too_large"),
    500: ("Internal server error.", "server_error"),
    501: ("Transfer-Encoding not supported.", "not_implemented"),
}


def write_json_error(sock, status_int, reason, mesg):
    fallback = ("Internal server error.", "server_error") if status_int >= 500 else None
    detail, code = GUNICORN_ERRORS.get(status_int) or fallback or (f"{reason}.", "bad_request")
    body = json.dumps({"detail": detail, "code": code})
    response = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"\r\n{body}"
    )
    util.write_nonblock(sock, response.encode("latin1"))


util.write_error = write_json_error
