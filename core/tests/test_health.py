import pytest


@pytest.mark.django_db
def test_health_reports_ok(api_client):
    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


# The outage itself (503, then recovery) is in test_faults.py, with the other endpoints.
