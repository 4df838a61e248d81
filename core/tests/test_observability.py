import json
import logging
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from accounts.tests.factories import UserFactory
from conftest import client_for
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def json_lines(caplog, logger_name):
    formatter = logging.getLogger().handlers[0].formatter
    assert formatter is not None
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == logger_name
    ]


def test_each_request_logs_one_json_line_with_the_route_and_echoes_the_request_id(
    caplog, auth_client, user
):
    listing = PropertyFactory.create()
    caplog.set_level(logging.INFO)

    response = auth_client.get(f"/api/properties/{listing.pk}/", HTTP_X_REQUEST_ID="abc-123")

    assert response["X-Request-ID"] == "abc-123"
    [line] = json_lines(caplog, "booking.request")
    assert line["message"] == "request"
    assert line["method"] == "GET"
    assert line["path"] == "api/properties/(?P<pk>[0-9]{1,18})/$"
    assert line["view"] == "property-detail"
    assert line["status"] == 200
    assert line["user_id"] == user.pk
    assert line["request_id"] == "abc-123"
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"


def test_a_missing_or_unsafe_request_id_is_replaced(api_client):
    generated = api_client.get("/api/health/")["X-Request-ID"]
    unsafe = api_client.get("/api/health/", HTTP_X_REQUEST_ID="bad id\nInjected: 1")["X-Request-ID"]

    assert len(generated) == 32
    assert int(generated, 16) >= 0
    assert len(unsafe) == 32
    assert unsafe != generated


def test_anonymous_requests_log_no_user(caplog, api_client):
    caplog.set_level(logging.INFO)

    api_client.get("/api/no-such-route/")

    [line] = json_lines(caplog, "booking.request")
    assert (line["status"], line["user_id"]) == (404, None)


def test_booking_created_and_cancelled_are_logged_with_the_request_id(
    caplog, django_capture_on_commit_callbacks
):
    listing = PropertyFactory.create()
    guest = UserFactory.create()
    client = client_for(guest)
    check_in = utc_today() + timedelta(days=3)
    caplog.set_level(logging.INFO)

    with django_capture_on_commit_callbacks(execute=True):
        booking_id = client.post(
            "/api/bookings/",
            {
                "property_id": listing.pk,
                "check_in": str(check_in),
                "check_out": str(check_in + timedelta(days=2)),
            },
            HTTP_X_REQUEST_ID="req-create",
        ).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        client.delete(f"/api/bookings/{booking_id}/", HTTP_X_REQUEST_ID="req-cancel")

    created, cancelled = json_lines(caplog, "booking.bookings")
    assert (created["message"], created["request_id"]) == ("booking created", "req-create")
    assert (cancelled["message"], cancelled["request_id"]) == ("booking cancelled", "req-cancel")
    assert created["booking_id"] == cancelled["booking_id"] == booking_id
    assert (created["property_id"], created["guest_id"]) == (listing.pk, guest.pk)
    assert created["total_price"] == "150.00"


def test_metrics_expose_request_and_query_counters(client, api_client):
    api_client.get("/api/properties/")

    response = client.get("/metrics")

    assert response.status_code == 200
    body = response.content.decode()
    assert (
        'django_http_requests_total_by_view_transport_method_total{method="GET",transport="http",view="property-list"}'
        in body
    )
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in body
    assert "django_db_execute_total" in body


def test_request_metrics_count_each_response_by_view_method_and_status(api_client):
    view = {"view": "property-list", "method": "GET"}
    series = [
        (
            "django_http_requests_total_by_view_transport_method_total",
            {"transport": "http", **view},
        ),
        ("django_http_responses_total_by_status_view_method_total", {"status": "200", **view}),
        ("django_http_responses_total_by_status_view_method_total", {"status": "400", **view}),
        ("django_http_requests_latency_seconds_by_view_method_count", view),
        (
            "django_http_responses_total_by_status_view_method_total",
            {"status": "404", "view": "<unnamed view>", "method": "GET"},
        ),
    ]

    def values() -> list[float]:
        return [REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in series]

    before = values()
    api_client.get("/api/properties/")
    api_client.get("/api/properties/?guests=0")
    api_client.get("/no-such-page/")

    assert [a - b for a, b in zip(values(), before, strict=True)] == [2, 1, 1, 2, 1]


def test_metrics_can_be_switched_off(client, settings):
    settings.METRICS_ENABLED = False

    assert client.get("/metrics").status_code == 404


def test_metrics_token_is_required_when_set(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200
