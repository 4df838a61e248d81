"""A real HTTP server on 127.0.0.1 for the import tests: each test registers what a path
answers (a body, a status, headers, or a misbehaviour) and reads the requests it received."""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # A generator of chunks written one by one (endless or slow feeds); replaces `body`.
    stream: Callable[[], Iterator[bytes]] | None = None


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                server.requests.append({"path": self.path, **dict(self.headers.items())})
                route = server.routes.get(self.path, Route(body=b"not found", status=404))
                self.send_response(route.status)
                headers = {"Content-Type": "text/calendar; charset=utf-8", **route.headers}
                if route.stream is None and "Content-Length" not in headers:
                    headers["Content-Length"] = str(len(route.body))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    if route.stream is None:
                        self.wfile.write(route.body)
                    else:
                        for chunk in route.stream():
                            self.wfile.write(chunk)
                            self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on us: what the limits are for

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> "FeedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def serve(self, path: str, body: bytes = b"", **options: object) -> str:
        """Answer GET `path` with `body` (see Route for the options); returns its URL."""
        self.routes[path] = Route(body=body, **options)  # type: ignore[arg-type]
        return self.url(path)


def endless() -> Iterator[bytes]:
    yield b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
    while True:
        yield b"X-PADDING:" + b"x" * 8000 + b"\r\n"


def trickle() -> Iterator[bytes]:
    while True:
        yield b"B"
        time.sleep(0.2)
