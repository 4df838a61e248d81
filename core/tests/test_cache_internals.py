"""core/cache.py subclasses Django's Redis cache through private internals; their use is proved
against a real Redis only in the cluster test. These checks run in the normal suite, with no
Redis (nothing here connects), so a Django or redis-py upgrade that renames or reshapes them
fails here, loudly, instead of in production."""

import inspect

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from core.cache import PrefixedRedisCache, ReusedClientRedisCacheClient

# Nothing listens there; building clients and pools never connects.
UNREACHABLE = "redis://127.0.0.1:1/0"


def _parameters(function) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_django_redis_client_private_methods_keep_their_signatures():
    P = inspect.Parameter

    assert _parameters(RedisCacheClient.get_client) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("key", P.POSITIONAL_OR_KEYWORD, None),
        ("write", P.KEYWORD_ONLY, False),
    ]
    # Private: Django's, so the stubs leave them out.
    index = RedisCacheClient._get_connection_pool_index  # type: ignore[attr-defined]
    pool = RedisCacheClient._get_connection_pool  # type: ignore[attr-defined]
    assert _parameters(index) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("write", P.POSITIONAL_OR_KEYWORD, P.empty),
    ]
    assert _parameters(pool) == [
        ("self", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("write", P.POSITIONAL_OR_KEYWORD, P.empty),
    ]
    assert _parameters(RedisCache.__init__)[1:] == [
        ("server", P.POSITIONAL_OR_KEYWORD, P.empty),
        ("params", P.POSITIONAL_OR_KEYWORD, P.empty),
    ]


def test_the_cache_builds_its_client_from_the_class_it_sets_in_init():
    # RedisCache._cache instantiates self._class; PrefixedRedisCache swaps in its own class.
    cache = PrefixedRedisCache(UNREACHABLE, {"KEY_PREFIX": "internals"})

    client = cache._cache

    assert type(client) is ReusedClientRedisCacheClient
    assert client._client is redis.Redis  # what get_client() instantiates
    assert cache.key_prefix == "internals"  # what clear() matches keys by


def test_one_redis_client_per_pool_built_on_djangos_pool():
    client = PrefixedRedisCache(UNREACHABLE, {})._cache

    reader, writer = client.get_client(), client.get_client("key", write=True)

    assert isinstance(reader, redis.Redis)
    # One server: reads and writes share pool 0, and so the one client.
    assert reader is writer
    assert reader.connection_pool is client._get_connection_pool(write=False)  # type: ignore[attr-defined]
    assert client._get_connection_pool_index(True) == 0  # type: ignore[attr-defined]


def test_redis_py_calls_used_by_clear_keep_their_parameters():
    scan = inspect.signature(redis.Redis.scan_iter).parameters
    delete = inspect.signature(redis.Redis.delete).parameters

    assert {"match", "count"} <= set(scan)
    assert [p.kind for p in delete.values()][1:] == [inspect.Parameter.VAR_POSITIONAL]
    assert "connection_pool" in inspect.signature(redis.Redis).parameters
