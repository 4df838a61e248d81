"""The docs pages in a real headless Chromium, with every request outside the test server
refused and recorded: Swagger UI and ReDoc render with nothing from outside (fonts, scripts),
and a person's path through Swagger UI works: register from the page, Authorize with the token,
call GET /api/profile/ and get 200. Leaves screenshots in .ci/artifacts/. Needs Debian's
chromium (.ci/run installs it); skipped without it unless REQUIRE_BROWSER_TEST=1, which CI
sets so that a missing browser fails loudly."""

import json
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / ".ci" / "artifacts"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outside_requests() -> list[str]:
    """URLs the page tried to reach beyond the test server (each refused)."""
    return []


@pytest.fixture
def browser_page(chromium, live_server, outside_requests):
    context = chromium.new_context(viewport={"width": 1280, "height": 1400})
    # Offline, as a machine without internet would see the docs: only the test server is
    # reachable, and any other request is refused and recorded for the test to assert on.
    page = context.new_page()

    def only_the_server(route):
        if route.request.url.startswith(f"{live_server.url}/"):
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    # What the page's Content-Security-Policy stopped before any request was made.
    context.add_init_script(
        "window.__blocked = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__blocked.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    yield page
    context.close()


def _run_operation(page, operation_id: str, body: dict | None = None):
    block = page.locator(f"#operations-accounts-{operation_id}")
    block.locator(".opblock-summary").first.click()
    block.get_by_role("button", name="Try it out").click()
    if body is not None:
        block.locator("textarea.body-param__text").fill(json.dumps(body))
    block.get_by_role("button", name="Execute").click()
    live = block.locator(".live-responses-table .response").first
    live.wait_for(timeout=15_000)
    status = live.locator(".response-col_status").inner_text().strip()
    text = live.locator(".response-col_description pre").first.inner_text()
    return block, status, text


def test_swagger_ui_register_authorize_and_read_profile(
    live_server, browser_page, outside_requests
):
    page = browser_page
    page.goto(f"{live_server.url}/api/docs/")
    page.locator("#operations-accounts-register_create").wait_for(timeout=20_000)

    _, status, text = _run_operation(
        page,
        "register_create",
        {"username": "john_doe", "email": "john@example.com", "password": "securepass123"},
    )
    assert status == "201"
    token = json.loads(text)["token"]

    page.locator("button.authorize").first.click()
    page.locator(".modal-ux input").first.fill(token)
    page.locator(".modal-ux button.modal-btn.auth.authorize").click()
    page.locator(".modal-ux button.btn-done").click()

    block, status, text = _run_operation(page, "profile_retrieve")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    block.screenshot(path=str(ARTIFACTS / "swagger-authorized-profile.png"))

    assert status == "200"
    profile = json.loads(text)
    assert (profile["username"], profile["email"]) == ("john_doe", "john@example.com")
    assert outside_requests == []


def test_swagger_ui_renders_every_tag_offline(live_server, browser_page, outside_requests):
    page = browser_page
    page.goto(f"{live_server.url}/api/docs/")
    page.locator("#operations-bookings-bookings_create").wait_for(timeout=20_000)
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "swagger-ui.png"), full_page=True)

    tags = page.locator("h3.opblock-tag").evaluate_all("tags => tags.map(t => t.dataset.tag)")
    summary = page.locator("#operations-bookings-bookings_create .opblock-summary-description")

    assert tags == ["accounts", "properties", "calendar", "rates", "bookings", "operations"]
    assert summary.inner_text() == "Book a stay"
    assert page.evaluate("window.__blocked") == []
    assert outside_requests == []


def test_redoc_renders_offline_in_system_fonts(live_server, browser_page, outside_requests):
    page = browser_page
    page.goto(f"{live_server.url}/api/redoc/")
    page.get_by_role("heading", name="Book a stay").first.wait_for(timeout=20_000)
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "redoc.png"))

    menu = page.locator("[role=menuitem]").all_inner_texts()
    tags = [item for item in menu if item in {"accounts", "properties", "bookings", "operations"}]
    heading_font = page.locator("h1").first.evaluate("el => getComputedStyle(el).fontFamily")

    assert tags == ["accounts", "properties", "bookings", "operations"]
    assert "Book a stay" in " ".join(menu)
    assert "system-ui" in heading_font
    # The one thing ReDoc's bundle asks from outside, stopped by the page's policy.
    assert page.evaluate("window.__blocked") == ["img-src https://cdn.redoc.ly/redoc/logo-mini.svg"]
    assert outside_requests == []


def test_swagger_ui_uploads_a_photo(live_server, browser_page, outside_requests, tmp_path):
    from PIL import Image

    from accounts.services import token_pair_create
    from accounts.tests.factories import UserFactory
    from photos.models import Photo
    from properties.tests.factories import PropertyFactory

    host = UserFactory.create()
    listing = PropertyFactory.create(owner=host)
    picture = tmp_path / "garden.jpg"
    Image.new("RGB", (640, 480), (40, 140, 60)).save(picture, "JPEG")
    page = browser_page
    page.goto(f"{live_server.url}/api/docs/")
    page.locator("#operations-properties-properties_photos_create").wait_for(timeout=20_000)
    page.locator("button.authorize").first.click()
    page.locator(".modal-ux input").first.fill(str(token_pair_create(user=host).access_token))
    page.locator(".modal-ux button.modal-btn.auth.authorize").click()
    page.locator(".modal-ux button.btn-done").click()

    block = page.locator("#operations-properties-properties_photos_create")
    block.locator(".opblock-summary").first.click()
    block.get_by_role("button", name="Try it out").click()
    block.locator("input[placeholder='property_id']").fill(str(listing.pk))
    block.locator("input[type='file']").set_input_files(str(picture))
    block.get_by_role("button", name="Execute").click()
    live = block.locator(".live-responses-table .response").first
    live.wait_for(timeout=15_000)
    status = live.locator(".response-col_status").inner_text().strip()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    block.screenshot(path=str(ARTIFACTS / "swagger-photo-upload.png"))

    assert status == "201"
    assert Photo.objects.filter(property=listing).count() == 1
    assert outside_requests == []
