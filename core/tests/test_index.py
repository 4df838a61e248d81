import pytest


def test_root_is_a_json_index_of_the_docs(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.json() == {
        "name": "Booking API",
        "version": "0.1.0",
        "links": {
            "docs": "http://testserver/api/docs/",
            "redoc": "http://testserver/api/redoc/",
            "schema": "http://testserver/api/schema/",
            "health": "http://testserver/api/health/",
        },
    }


def test_root_only_answers_reads(client):
    response = client.post("/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_admin_without_its_slash_redirects_to_the_admin(client):
    response = client.get("/admin")

    assert response.status_code == 301
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("path", ["/api/profile", "/api/properties"])
def test_api_urls_without_their_slash_stay_json_404s(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
