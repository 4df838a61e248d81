import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from core.cache_generations import recent_response_misses


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and cached counts live in the caches; each test starts with none, and
    # with no response missed before (the response cache stores a response on its second miss).
    for cache in caches.all():
        cache.clear()
    recent_response_misses.clear()
    yield
    for cache in caches.all():
        cache.clear()
    recent_response_misses.clear()


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path):
    # Uploaded files never land in the repository's media/ folder.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def amenities(db) -> None:
    """The shipped amenity vocabulary, present even after a transactional test flushed the
    database (which drops what migrations seeded)."""
    from properties.services import amenity_vocabulary_ensure

    amenity_vocabulary_ensure()


@pytest.fixture
def user(db):
    return UserFactory.create()


def client_for(user) -> APIClient:
    """An API client that sends a fresh access token of `user`."""
    from accounts.services import token_pair_create

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_create(user=user).access_token}")
    return client


@pytest.fixture
def auth_client(user):
    return client_for(user)


def run_simultaneously(calls) -> list:
    """Run each zero-argument callable in its own thread, released together by a barrier, each
    on its own database connection (closed at the end); return their results in order."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def migrate_to(targets=None):
    """Migrate the test database to `targets` ([(app, migration), ...]; None: every app's
    latest) and return the apps as they are there (for a migration's test, which must run with
    transaction=True)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if targets is None:
        targets = executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps
