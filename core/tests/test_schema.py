import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from core.stays import stay_date_errors, stay_shape_errors, utc_today

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
OPERATIONS = ("get", "put", "patch", "post", "delete")


def _without_example_dates(node, *, in_example: bool = False):
    """The document with every date in an example replaced: those are computed when the schema
    is generated (core.api.schema.example_dates_hook), so they move with the calendar."""
    if isinstance(node, dict):
        return {
            key: _without_example_dates(
                value, in_example=in_example or key in ("example", "examples")
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_without_example_dates(value, in_example=in_example) for value in node]
    if in_example and isinstance(node, str) and len(node) >= 10:
        try:
            date.fromisoformat(node[:10])
        except ValueError:
            return node
        return "<date>"
    return node


@pytest.fixture(scope="module")
def generated():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_committed_openapi_document_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.json"

    call_command("spectacular", "--format", "openapi-json", "--validate", "--file", str(generated))

    assert _without_example_dates(json.loads(generated.read_text())) == _without_example_dates(
        json.loads(COMMITTED.read_text())
    ), "docs/openapi.json is stale: run `make schema` and commit it"


def test_schema_declares_the_bearer_scheme_and_every_endpoint():
    schema = json.loads(COMMITTED.read_text())

    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert {
        "/api/register/",
        "/api/login/",
        "/api/logout/",
        "/api/token/refresh/",
        "/api/profile/",
        "/api/health/",
        "/api/properties/",
        "/api/properties/{id}/",
        "/api/properties/{property_id}/availability/",
        "/api/properties/{property_id}/bookings/",
        "/api/bookings/",
        "/api/bookings/{id}/",
    } <= set(schema["paths"])
    assert schema["paths"]["/api/profile/"]["get"]["security"] == [{"jwtAuth": []}]


def test_every_operation_has_a_summary_a_description_and_a_declared_tag(generated):
    tags = [tag["name"] for tag in generated["tags"]]
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in generated["paths"].items()
        for method, operation in operations.items()
        if method in OPERATIONS and not (operation.get("summary") and operation.get("description"))
    ]
    used = {
        tag
        for operations in generated["paths"].values()
        for method, operation in operations.items()
        if method in OPERATIONS
        for tag in operation["tags"]
    }

    assert tags == ["accounts", "properties", "calendar", "rates", "bookings", "operations"]
    assert all(tag["description"] for tag in generated["tags"])
    assert undocumented == []
    assert used == set(tags)


def test_request_components_are_named_without_input_or_request_suffixes(generated):
    names = set(generated["components"]["schemas"])

    assert {"BookingCreate", "ProfileUpdate", "Login", "Registration", "Booking"} <= names
    assert [name for name in names if "Input" in name or "Output" in name] == []


def test_example_stays_are_bookable_today(generated):
    example = generated["paths"]["/api/bookings/"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    stays = [
        (date.fromisoformat(e["value"]["check_in"]), date.fromisoformat(e["value"]["check_out"]))
        for e in example.values()
    ]

    assert stays
    for check_in, check_out in stays:
        assert check_in > utc_today()
        assert stay_date_errors(check_in=check_in, today=utc_today()) == {}
        assert stay_shape_errors(check_in=check_in, check_out=check_out) == {}


def test_example_dates_are_computed_when_the_schema_is_generated(time_machine):
    time_machine.move_to("2031-12-31 23:00Z")

    schema = SchemaGenerator().get_schema(request=None, public=True)

    body = schema["paths"]["/api/bookings/"]["post"]["requestBody"]["content"]["application/json"]
    (example,) = body["examples"].values()
    assert example["value"]["check_in"] == "2032-06-01"
    assert example["value"]["check_out"] == "2032-06-05"
