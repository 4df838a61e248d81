"""Fetching an external calendar's URL without becoming a proxy into our own network (SSRF).

- Only http and https, on any port, without credentials in the URL.
- The host name is resolved once; unless ICAL_FETCH_ALLOW_PRIVATE is on, every address it
  resolves to must be global (no loopback, private, link-local, CGNAT, multicast or reserved
  address, IPv4 or IPv6: 127.0.0.1, 10/8, 169.254.169.254 the cloud metadata service, ::1,
  fc00::/7 ...). The connection then goes to that very address, so a DNS answer that changes
  between the check and the connection (rebinding) cannot point it elsewhere; TLS still checks
  the certificate against the host name.
- Redirects (at most ICAL_FETCH_MAX_REDIRECTS) are followed by hand, each new URL checked the
  same way; environment proxies are ignored.
- One deadline for the whole fetch (connect, every read and redirect), a body limit counted
  while reading (a server that sends for ever, or lies in Content-Length, is cut off), and no
  compressed bodies (Accept-Encoding: identity), so no decompression bomb.
"""

import concurrent.futures
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

USER_AGENT = "BookingAPI-iCal-Import/1.0"
# Name lookups, off the calling thread so that they obey the fetch's deadline.
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="ical-dns")
READ_CHUNK = 64 * 1024


class FetchError(Exception):
    """The feed could not be fetched; the message is shown to the host as it is."""


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 when the validators sent still match
    body: bytes
    etag: str
    last_modified: str


def url_problem(url: str, *, allow_private: bool | None = None) -> str:
    """Why `url` may not be fetched without resolving it (scheme, credentials, a literal
    non-global address or `localhost`), or "" when it may be tried."""
    allow_private = settings.ICAL_FETCH_ALLOW_PRIVATE if allow_private is None else allow_private
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs can be fetched"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL are not accepted"
    if port == 0:
        return "port 0 is not a port"
    if allow_private:
        return ""
    if parts.hostname == "localhost" or parts.hostname.endswith(".localhost"):
        return "the host is this machine (localhost)"
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return ""  # a name: checked when it is resolved, at every fetch
    return _address_problem(address)


# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052, RFC 8215)
# and the deprecated IPv4-compatible form. A gateway may translate them to the IPv4 inside.
_EMBEDDING_IPV4 = [
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64, compatible)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


# Characters a URL's path and query keep as they are; everything else is percent-encoded (and
# existing escapes stay: "%" is kept).
_PATH_SAFE = "/%?=&:@!$'()*+,;~-._"


def _address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
    if not address.is_global or address.is_multicast:
        # The address itself stays out of the message: it would tell a host what a name
        # resolves to inside the server's network.
        return "it is not a public internet address (private, loopback or link-local)"
    return ""


def _resolve(host: str, port: int, allow_private: bool, deadline: float) -> str:
    """One address of `host` to connect to; every address it resolves to must be allowed."""
    # getaddrinfo() has no timeout of its own (the system resolver may retry for half a
    # minute): it runs in a helper thread, and the fetch gives up on it at the deadline.
    lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=max(0.0, deadline - time.monotonic()))
    except concurrent.futures.TimeoutError as exc:
        raise FetchError(f"The host {host} could not be resolved in time.") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"The host {host} could not be resolved: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise FetchError(f"The host {host} has no address.")
    if not allow_private:
        for text in addresses:
            problem = _address_problem(ipaddress.ip_address(text.split("%", 1)[0]))
            if problem:
                raise FetchError(f"Refused to fetch from {host}: {problem}.")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the name asked for, not the pinned address.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def feed_fetch(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    """GET `url` under the rules above. Raises FetchError with a message for the host."""
    allow_private = settings.ICAL_FETCH_ALLOW_PRIVATE
    max_bytes = settings.ICAL_FETCH_MAX_BYTES
    deadline = time.monotonic() + settings.ICAL_FETCH_TIMEOUT_SECONDS
    for _ in range(settings.ICAL_FETCH_MAX_REDIRECTS + 1):
        problem = url_problem(url, allow_private=allow_private)
        if problem:
            raise FetchError(f"Refused to fetch {url[:200]}: {problem}.")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = _resolve(host, port, allow_private, deadline)
        connection_class = (
            _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        )
        connection = connection_class(
            host, port, address=address, timeout=max(0.1, deadline - time.monotonic())
        )
        # A URL (or a redirect's Location) may carry non-ASCII text: http.client sends ASCII
        # only, so it goes percent-encoded, as a browser would send it.
        path = quote(parts.path or "/", safe=_PATH_SAFE)
        if parts.query:
            path = f"{path}?{quote(parts.query, safe=_PATH_SAFE)}"
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "text/calendar, */*;q=0.5",
            "Accept-Encoding": "identity",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            connection.request("GET", path, headers=headers)
            # Kept before getresponse(), which may hand the socket over to the response.
            sock = connection.sock
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location", "")
                if not location:
                    raise FetchError(f"The feed answered {response.status} without a Location.")
                url = urljoin(url, location)
                continue
            if response.status == 304:
                return Fetched(status=304, body=b"", etag=etag, last_modified=last_modified)
            if response.status != 200:
                raise FetchError(
                    f"The feed answered HTTP {response.status} {response.reason[:100]}."
                )
            if response.getheader("Content-Encoding", "identity").lower() != "identity":
                raise FetchError("The feed answered with a compressed body, which is refused.")
            body = _read_limited(response, sock, max_bytes=max_bytes, deadline=deadline)
            return Fetched(
                status=200,
                body=body,
                etag=(response.getheader("ETag") or "")[:200],
                last_modified=(response.getheader("Last-Modified") or "")[:100],
            )
        except TimeoutError as exc:
            raise FetchError("The feed did not answer in time.") from exc
        except ssl.SSLError as exc:
            raise FetchError(f"TLS failed: {exc.reason or exc}.") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchError(
                f"The feed could not be fetched: {str(exc) or type(exc).__name__}."
            ) from exc
        finally:
            connection.close()
    raise FetchError(f"More than {settings.ICAL_FETCH_MAX_REDIRECTS} redirects.")


def _read_limited(
    response: http.client.HTTPResponse,
    sock: socket.socket | None,
    *,
    max_bytes: int,
    deadline: float,
) -> bytes:
    """The body, up to `max_bytes`, by `deadline`: a server that trickles a byte at a time
    runs into the deadline, not into one socket timeout per byte."""
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"The feed is larger than {max_bytes} bytes.")
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("The feed did not finish sending in time.")
        if sock is not None:
            sock.settimeout(remaining)
        chunk = response.read1(READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"The feed is larger than {max_bytes} bytes.")
        chunks.append(chunk)
