import json
from pathlib import Path

from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_document_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.json"

    call_command("spectacular", "--format", "openapi-json", "--validate", "--file", str(generated))

    assert json.loads(generated.read_text()) == json.loads(COMMITTED.read_text()), (
        "docs/openapi.json is stale: run `make schema` and commit it"
    )


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
