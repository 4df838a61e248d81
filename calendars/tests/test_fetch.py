"""Fetching feeds from a real local HTTP server: limits, failures, redirects and the SSRF rule."""

import socket
import threading
import time
from datetime import date

import pytest

from calendars.fetch import FetchError, feed_fetch, url_problem
from calendars.tests.feed_server import endless, trickle
from calendars.tests.samples import booking_com_feed

BODY = booking_com_feed([(date(2026, 12, 1), date(2026, 12, 3))])


def test_a_feed_is_fetched_with_its_validators(feed_server):
    url = feed_server.serve(
        "/cal.ics", BODY, headers={"ETag": '"v1"', "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"}
    )

    fetched = feed_fetch(url)

    assert (fetched.status, fetched.body) == (200, BODY)
    assert fetched.etag == '"v1"'
    assert fetched.last_modified == "Tue, 01 Dec 2026 10:00:00 GMT"
    assert feed_server.requests[0]["Accept-Encoding"] == "identity"


def test_the_validators_are_sent_back_and_a_304_is_not_modified(feed_server):
    url = feed_server.serve("/cal.ics", status=304)

    fetched = feed_fetch(url, etag='"v1"', last_modified="Tue, 01 Dec 2026 10:00:00 GMT")

    assert fetched.status == 304
    assert feed_server.requests[0]["If-None-Match"] == '"v1"'
    assert feed_server.requests[0]["If-Modified-Since"] == "Tue, 01 Dec 2026 10:00:00 GMT"


@pytest.mark.parametrize(
    ("status", "message"),
    [(404, "HTTP 404"), (403, "HTTP 403"), (500, "HTTP 500"), (503, "HTTP 503")],
)
def test_an_error_status_is_reported(feed_server, status, message):
    url = feed_server.serve("/cal.ics", b"oops", status=status)

    with pytest.raises(FetchError, match=message):
        feed_fetch(url)


def test_a_body_over_the_limit_is_cut_off_declared_or_not(feed_server, settings):
    settings.ICAL_FETCH_MAX_BYTES = 1000
    declared = feed_server.serve("/big.ics", b"x" * 1001)
    undeclared = feed_server.serve("/endless.ics", stream=endless)

    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        feed_fetch(declared)
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        feed_fetch(undeclared)


def test_a_server_that_trickles_runs_into_the_deadline(feed_server, settings):
    settings.ICAL_FETCH_TIMEOUT_SECONDS = 1
    url = feed_server.serve("/slow.ics", stream=trickle)

    with pytest.raises(FetchError, match="in time"):
        feed_fetch(url)


def test_a_refused_connection_is_reported(feed_server):
    url = feed_server.url("/cal.ics")
    feed_server.stop()

    with pytest.raises(FetchError, match="could not be fetched"):
        feed_fetch(url)


def test_redirects_are_followed_and_limited(feed_server, settings):
    settings.ICAL_FETCH_MAX_REDIRECTS = 2
    final = feed_server.serve("/final.ics", BODY)
    feed_server.serve("/moved.ics", status=301, headers={"Location": "/final.ics"})
    feed_server.serve("/loop.ics", status=302, headers={"Location": "/loop.ics"})

    assert feed_fetch(feed_server.url("/moved.ics")).body == BODY
    assert final.endswith("/final.ics")
    with pytest.raises(FetchError, match="More than 2 redirects"):
        feed_fetch(feed_server.url("/loop.ics"))


def test_non_ascii_urls_and_redirects_are_sent_percent_encoded(feed_server):
    feed_server.serve("/caf%C3%A9.ics", BODY)
    feed_server.serve("/moved.ics", status=302, headers={"Location": "/café.ics"})

    assert feed_fetch(feed_server.url("/café.ics")).body == BODY
    assert feed_fetch(feed_server.url("/moved.ics")).body == BODY
    assert feed_fetch(feed_server.url("/caf%C3%A9.ics")).body == BODY  # escapes stay as sent


def test_a_compressed_answer_is_refused(feed_server):
    url = feed_server.serve("/cal.ics", b"\x1f\x8b", headers={"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="compressed"):
        feed_fetch(url)


def test_private_addresses_are_refused_unless_the_setting_allows_them(feed_server, settings):
    url = feed_server.serve("/cal.ics", BODY)
    settings.ICAL_FETCH_ALLOW_PRIVATE = False

    with pytest.raises(FetchError, match="not a public internet address"):
        feed_fetch(url)
    assert feed_server.requests == []


def test_a_redirect_to_a_private_address_is_refused(feed_server, settings, monkeypatch):
    # A public host that redirects inward: the first hop is allowed, the second is not.
    feed_server.serve(
        "/cal.ics", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    settings.ICAL_FETCH_ALLOW_PRIVATE = False
    monkeypatch.setattr("calendars.fetch._address_problem", _only_metadata_is_private)

    with pytest.raises(FetchError, match=r"169\.254\.169\.254"):
        feed_fetch(feed_server.url("/cal.ics"))
    assert len(feed_server.requests) == 1


def _only_metadata_is_private(address):
    return "not a public internet address" if str(address) == "169.254.169.254" else ""


def test_a_name_that_resolves_to_a_private_address_is_refused(settings, monkeypatch):
    settings.ICAL_FETCH_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        "socket.getaddrinfo", lambda *args, **kwargs: [(2, 1, 6, "", ("10.0.0.5", 80))]
    )

    with pytest.raises(FetchError, match=r"it is not a public internet address"):
        feed_fetch("http://calendar.example.com/feed.ics")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/a.ics", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("webcal://example.com/a.ics", "only http and https"),
        ("http://user:secret@example.com/a.ics", "credentials"),
        ("http:///a.ics", "no host"),
        ("http://localhost:8000/a.ics", "localhost"),
        ("http://127.0.0.1/a.ics", "not a public"),
        ("http://10.1.2.3/a.ics", "not a public"),
        ("http://192.168.0.1/a.ics", "not a public"),
        ("http://169.254.169.254/latest/", "not a public"),
        ("http://100.64.0.1/a.ics", "not a public"),
        ("http://[::1]/a.ics", "not a public"),
        ("http://[fd00::1]/a.ics", "not a public"),
        ("http://[::ffff:127.0.0.1]/a.ics", "not a public"),
        # IPv6 forms that carry an IPv4 address: compatible, 6to4, NAT64 (well-known and
        # local-use prefixes), Teredo (whose client address is stored inverted).
        ("http://[::7f00:1]/a.ics", "not a public"),
        ("http://[2002:7f00:1::]/a.ics", "not a public"),
        ("http://[64:ff9b::a9fe:a9fe]/a.ics", "not a public"),
        ("http://[64:ff9b:1::a00:1]/a.ics", "not a public"),
        ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/a.ics", "not a public"),
        ("http://[64:ff9b::5db8:d70e]/a.ics", ""),
        ("http://0.0.0.0/a.ics", "not a public"),
        ("https://www.airbnb.com/calendar/ical/1.ics?s=abc", ""),
        ("http://93.184.215.14:8080/a.ics", ""),
    ],
)
def test_url_problems_are_named_before_any_fetch(url, problem):
    assert problem in url_problem(url, allow_private=False)
    if not problem:
        assert url_problem(url, allow_private=False) == ""


def test_the_setting_allows_private_addresses_but_never_other_schemes():
    assert url_problem("http://127.0.0.1:8000/a.ics", allow_private=True) == ""
    assert "only http and https" in url_problem("file:///etc/passwd", allow_private=True)


def test_a_name_lookup_that_hangs_runs_into_the_deadline(settings, monkeypatch):
    settings.ICAL_FETCH_TIMEOUT_SECONDS = 1
    release = threading.Event()

    def hanging(*args, **kwargs):
        release.wait(10)
        raise socket.gaierror("gave up")

    monkeypatch.setattr("socket.getaddrinfo", hanging)
    started = time.monotonic()

    with pytest.raises(FetchError, match="could not be resolved in time"):
        feed_fetch("https://calendar.example.com/feed.ics")
    assert time.monotonic() - started < 3
    release.set()
