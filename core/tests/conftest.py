"""Fixtures for the tests that drive a real browser (Debian's Chromium, through Playwright)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def chromium(monkeypatch):
    """A headless Chromium. Skipped when it is not installed, unless REQUIRE_BROWSER_TEST=1
    (CI sets it, so that a missing browser fails loudly)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER_TEST") == "1":
            pytest.fail(f"REQUIRE_BROWSER_TEST=1 but no Chromium at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test itself touches the
    # database only through the live server's own thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()
