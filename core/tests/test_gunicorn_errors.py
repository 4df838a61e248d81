"""Requests gunicorn refuses before Django runs get the API's JSON error shape, not gunicorn's
HTML page (gunicorn.conf.py replaces gunicorn.util.write_error). Through nginx, the cluster
test proves the same for nginx's own refusals (cluster/nginx.conf.template)."""

import inspect
import json
import re
import socket
import time
from pathlib import Path

import pytest
from gunicorn import util
from gunicorn.workers.base import Worker

from core.api.errors import error_codes
from core.tests.live import live_gunicorn

ROOT = Path(__file__).resolve().parent.parent.parent
HOST_HEADER = b"Host: 127.0.0.1\r\n"
MALFORMED = {
    "negative Content-Length": (
        b"POST /api/login/ HTTP/1.1\r\n" + HOST_HEADER + b"Content-Length: -1\r\n\r\n",
        400,
        "bad_request",
    ),
    "duplicate Content-Length": (
        b"POST /api/login/ HTTP/1.1\r\n"
        + HOST_HEADER
        + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        400,
        "bad_request",
    ),
    "control character in a header": (
        b"GET /api/health/ HTTP/1.1\r\n" + HOST_HEADER + b"X-Evil: a\x01b\r\n\r\n",
        400,
        "bad_request",
    ),
    "too many headers": (
        b"GET /api/health/ HTTP/1.1\r\n"
        + HOST_HEADER
        + b"".join(b"X-H%d: v\r\n" % n for n in range(120))
        + b"\r\n",
        431,
        "headers_too_large",
    ),
    "a header over 8190 bytes": (
        b"GET /api/health/ HTTP/1.1\r\n" + HOST_HEADER + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n",
        431,
        "headers_too_large",
    ),
    "request line over 4094 bytes": (
        b"GET /api/properties/?location=" + b"a" * 5000 + b" HTTP/1.1\r\n" + HOST_HEADER + b"\r\n",
        414,
        "uri_too_long",
    ),
    "unknown Transfer-Encoding": (
        b"POST /api/login/ HTTP/1.1\r\n" + HOST_HEADER + b"Transfer-Encoding: gzip\r\n\r\n",
        400,
        "bad_request",
    ),
}


def raw_request(port: int, payload: bytes) -> tuple[int, dict, bytes]:
    """Send bytes as they are; return the status, headers and body gunicorn answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        received = b""
        while chunk := sock.recv(65536):  # gunicorn closes the connection after an error
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def test_gunicorn_still_writes_its_error_pages_through_util_write_error():
    # The hook gunicorn.conf.py replaces: a renamed function or another call would bring the
    # HTML pages back.
    assert list(inspect.signature(util.write_error).parameters) == [
        "sock",
        "status_int",
        "reason",
        "mesg",
    ]
    assert "util.write_error(" in inspect.getsource(Worker.handle_error)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("gunicorn-errors") / "db.sqlite3"
    with live_gunicorn(database_url=f"sqlite:///{database}") as running:
        yield running


@pytest.mark.parametrize("case", list(MALFORMED))
def test_requests_gunicorn_refuses_are_answered_in_the_json_error_shape(server, case):
    payload, expected_status, expected_code = MALFORMED[case]

    status, headers, body = raw_request(int(server.url.rsplit(":", 1)[1]), payload)

    answer = json.loads(body)
    assert status == expected_status
    assert headers["Content-Type"] == "application/json"
    assert (sorted(answer), answer["code"]) == (["code", "detail"], expected_code)
    assert answer["detail"].endswith(".")


def test_every_code_gunicorn_and_nginx_answer_with_is_a_documented_error_code():
    nginx = (ROOT / "cluster" / "nginx.conf.template").read_text()
    gunicorn = (ROOT / "gunicorn.conf.py").read_text()
    nginx_codes = set(re.findall(r'"code": "([a-z_]+)"', nginx))
    gunicorn_codes = set(re.findall(r'\(".*?", "([a-z_]+)"\)', gunicorn))

    assert len(nginx_codes) >= 5
    assert len(gunicorn_codes) >= 5
    assert (nginx_codes | gunicorn_codes) - set(error_codes()) == set()


def test_a_client_scheme_header_that_contradicts_the_proxy_is_ignored(server):
    # gunicorn's default would answer 400 to X-Forwarded-Ssl: on next to X-Forwarded-Proto.
    status, _, body = raw_request(
        int(server.url.rsplit(":", 1)[1]),
        b"GET /api/health/ HTTP/1.1\r\n"
        + HOST_HEADER
        + b"X-Forwarded-Proto: http\r\nX-Forwarded-Ssl: on\r\nConnection: close\r\n\r\n",
    )

    assert (status, json.loads(body)["status"]) == (200, "ok")


def test_access_log_lines_are_json_whatever_the_client_sends(tmp_path):
    # A quote, a backslash and a control character in the path, query and user agent would
    # each break a hand-escaped line; an absent header is "-".
    log = tmp_path / "access.log"
    database = tmp_path / "db.sqlite3"
    with live_gunicorn(database_url=f"sqlite:///{database}", GUNICORN_ACCESS_LOG=str(log)) as s:
        status, _, _ = raw_request(
            int(s.url.rsplit(":", 1)[1]),
            b'GET /api/health/?q=a\\b"c%09 HTTP/1.1\r\n'
            + HOST_HEADER
            + b'User-Agent: x"y\\z\tw\r\nX-Request-ID: req-1\r\nConnection: close\r\n\r\n',
        )
        deadline = time.monotonic() + 10
        while "req-1" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    line = next(line for line in lines if line["request_id"] == "req-1")
    assert status == 200
    assert {key: line[key] for key in ("method", "path", "query", "status", "user_agent")} == {
        "method": "GET",
        "path": "/api/health/",
        "query": 'q=a\\b"c%09',
        "status": 200,
        "user_agent": 'x"y\\z\tw',
    }
    assert line["forwarded_for"] == "-"
    assert isinstance(line["bytes"], int)
    assert isinstance(line["duration_ms"], int)
