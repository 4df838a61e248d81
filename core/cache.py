"""Django's built-in Redis cache, confined to its own key prefix."""

import re

from django.core.cache.backends.redis import RedisCache

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


class PrefixedRedisCache(RedisCache):
    """Django's RedisCache, except that clear() deletes only the keys under this cache's
    KEY_PREFIX. Django's own clear() is FLUSHDB: on a Redis database shared by several
    deployments or test runs it would wipe the others' throttle counters."""

    def clear(self) -> bool:
        client = self._cache.get_client(write=True)
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self.key_prefix) + ":*"
        batch = []
        # SCAN, not KEYS: it never blocks Redis for the whole keyspace at once.
        for key in client.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) == 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
        return True
