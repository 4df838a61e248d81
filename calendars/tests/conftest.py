import pytest

from calendars.tests.feed_server import FeedServer


@pytest.fixture
def feed_server(settings):
    """A local HTTP server for feeds, started for the test and stopped after it; fetching from
    127.0.0.1 is allowed for its duration (the SSRF refusal has its own tests)."""
    settings.ICAL_FETCH_ALLOW_PRIVATE = True
    server = FeedServer().start()
    yield server
    server.stop()
