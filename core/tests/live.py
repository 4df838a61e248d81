"""A real gunicorn serving the test database, and a TCP proxy in front of PostgreSQL that a test
can cut, black-hole and restore: faults injected at the network, not by mocking."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent
# This project's tools keep to these ports, so parallel test runs and other services don't clash.
PORT_RANGE = range(18600, 18700)


def free_port() -> int:
    for port in PORT_RANGE:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE}")


@dataclass
class HttpResponse:
    status: int
    headers: dict
    body: Any  # parsed JSON, or the text when it is not JSON


def http(method: str, url: str, *, body=None, headers=None, timeout: float = 20) -> HttpResponse:
    """One HTTP request; any status comes back as a response (urllib raises on 4xx/5xx)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, response_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, response_headers = error.code, error.read(), error.headers
    is_json = response_headers.get("Content-Type", "").startswith("application/json")
    return HttpResponse(status, dict(response_headers), json.loads(raw) if is_json else raw)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`. `cut()` drops every connection and refuses new
    ones (the database is gone); `black_hole()` drops them and then accepts new ones without
    ever answering (a network that swallows packets); `restore()` forwards again."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._forwarding = True
        self._listener = self._listen()

    def _listen(self) -> socket.socket:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.1)
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed
            with self._lock:
                self._sockets.append(client)
            if not self._forwarding:
                continue  # held open, never answered
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _drop_connections(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self) -> None:
        self._listener.close()
        self._drop_connections()

    def black_hole(self) -> None:
        self._forwarding = False
        self._drop_connections()

    def restore(self) -> None:
        self._forwarding = True
        if self._listener.fileno() == -1:
            self._listener = self._listen()

    def close(self) -> None:
        self.cut()


def database_url(*, port: int | None = None) -> str:
    """URL of the test database (PostgreSQL), optionally through another port."""
    db = connection.settings_dict
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return (
        f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}/{db['NAME']}"
    )


@dataclass
class Gunicorn:
    url: str
    pid: int

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(pid) for pid in children]


@contextmanager
def live_gunicorn(*, database_url: str, workers: int = 1, **env):
    """gunicorn with production settings (DEBUG off) on the test database; stopped by PID."""
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        # The test process signs the tokens it hands to clients; the server must accept them.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "THROTTLING_ENABLED": "false",
        **env,
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = Gunicorn(url=f"http://127.0.0.1:{port}", pid=process.pid)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                http("GET", f"{server.url}/api/health/", timeout=5)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
