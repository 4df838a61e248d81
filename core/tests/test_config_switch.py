"""Configuration changes never break a running service: every supported configuration works on
any database `migrate` has run on, whatever the configuration was then. The only schema that
depends on it is the "shared" cache's table (needed without Redis), now always created."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from accounts.tests.factories import UserFactory
from properties.tests.factories import PropertyFactory

ROOT = Path(__file__).resolve().parent.parent.parent
WITHOUT_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sw"},
    "shared": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "core_shared_cache",
    },
}


@pytest.mark.django_db
def test_the_suites_database_serves_without_redis_though_migrated_without_a_database_cache(
    api_client,
):
    # The test settings configure memory caches only, so migrate saw what it sees with Redis.
    PropertyFactory.create()
    user = UserFactory.create()

    with override_settings(CACHES=WITHOUT_REDIS):
        listed = api_client.get("/api/properties/")
        refused = api_client.post("/api/login/", {"username": user.username, "password": "nope"})
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM core_shared_cache")
            stored = cursor.fetchone()[0]

    assert (listed.status_code, listed.json()["count"]) == (200, 1)
    assert refused.status_code == 401
    assert stored >= 2  # the cached count and the failed-login counters went to the table


SERVE = """
from django.test import Client
client = Client(HTTP_HOST="localhost")
listed = client.get("/api/properties/")
refused = client.post(
    "/api/login/", {"username": "nobody", "password": "x"}, content_type="application/json"
)
print(listed.status_code, refused.status_code)
"""


def _manage(database: Path, redis_url: str, *args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        ENV_FILE=os.devnull,
        DATABASE_URL=f"sqlite:///{database}",
        REDIS_URL=redis_url,
        SECRET_KEY="config-switch-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
        CACHE_KEY_PREFIX="config-switch-test",
        RESPONSE_CACHE_SECONDS="0",
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _migrate_then_serve(tmp_path: Path, *, migrated_with: str, served_with: str) -> list[str]:
    database = tmp_path / "switch.sqlite3"
    migrated = _manage(database, migrated_with, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    served = _manage(database, served_with, "shell", "-c", SERVE)
    assert served.returncode == 0, served.stderr
    return served.stdout.split()[-2:]


def test_migrated_with_redis_then_served_without_it(tmp_path):
    # Migrating never connects to Redis: a dead address is configuration enough.
    statuses = _migrate_then_serve(tmp_path, migrated_with="redis://127.0.0.1:1/0", served_with="")

    assert statuses == ["200", "401"]


@pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs a Redis server in REDIS_URL (make cluster-test sets it)"
)
def test_migrated_without_redis_then_served_with_it(tmp_path):
    statuses = _migrate_then_serve(tmp_path, migrated_with="", served_with=settings.REDIS_URL or "")

    assert statuses == ["200", "401"]
