import json
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400_with_detail(api_client):
    response = api_client.post(
        "/api/register/", data='{"username": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("JSON parse error")
    assert response.json()["code"] == "parse_error"


def test_unknown_api_url_is_a_json_404(api_client):
    response = api_client.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_wrong_method_is_a_json_405(api_client):
    response = api_client.get("/api/register/")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.', "code": "method_not_allowed"}


def test_unsupported_media_type_is_a_json_415(api_client):
    response = api_client.post("/api/register/", data="username=x", content_type="text/plain")

    assert response.status_code == 415
    assert set(response.json()) == {"detail", "code"}


def test_body_over_one_mebibyte_is_a_json_413(api_client):
    body = '{"username": "' + "a" * (1024 * 1024) + '"}'

    response = api_client.post("/api/register/", data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body exceeds the limit of 1048576 bytes.",
        "code": "request_too_large",
    }


def test_unhandled_error_is_a_json_500_without_internals(api_client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("accounts.apis.LoginApi.post", explode)
    api_client.raise_request_exception = False

    response = api_client.post("/api/login/", {"username": "x", "password": "y"})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "server_error"}
    assert b"secret internals" not in response.content


def test_non_api_404_keeps_djangos_page(client):
    response = client.get("/not-api/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("param", ["page", "page_size"])
def test_non_ascii_digits_in_page_parameters_are_400(api_client, param):
    response = api_client.get("/api/properties/", {param: "²"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [param]


def test_a_huge_page_number_is_past_the_end(api_client):
    response = api_client.get("/api/properties/", {"page": "9" * 30})

    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code"}


@pytest.mark.parametrize("path", ["/api/properties", "/api/nowhere"])
def test_post_to_an_unknown_api_url_is_a_json_404(api_client, path):
    response = api_client.post(path, {"title": "x"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/api/schema/"])
def test_docs_endpoints_answer_wrong_methods_in_json(api_client, path):
    response = api_client.post(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": 'Method "POST" not allowed.', "code": "method_not_allowed"}


def test_csrf_failures_under_api_are_json(rf):
    from core.views import csrf_failure

    response = csrf_failure(rf.post("/api/anything/"), reason="CSRF cookie not set.")

    assert response.status_code == 403
    assert json.loads(response.content) == {
        "detail": "CSRF verification failed.",
        "code": "csrf_failed",
    }


def test_every_error_code_is_in_the_schema_enum_and_domain_codes_are_distinct():
    from core.api.errors import error_codes
    from core.exceptions import ApplicationError

    def subclasses(cls):
        for subclass in cls.__subclasses__():
            yield subclass
            yield from subclasses(subclass)

    domain_errors = [ApplicationError, *subclasses(ApplicationError)]
    schema = json.loads((Path(settings.BASE_DIR) / "docs" / "openapi.json").read_text())
    code_schema = schema["components"]["schemas"]["Error"]["properties"]["code"]
    enum_name = code_schema["allOf"][0]["$ref"].rsplit("/", 1)[-1]

    assert schema["components"]["schemas"][enum_name]["enum"] == error_codes()
    assert len({error.code for error in domain_errors}) == len(domain_errors)
    assert {"validation_error", "not_authenticated", "throttled", "booking_conflict"} <= set(
        error_codes()
    )
