from django.contrib.auth.hashers import Argon2PasswordHasher


class OWASPArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id at OWASP's minimum parameters (19 MiB, 2 iterations, parallelism 1): ~20 ms a
    hash, which keeps login and register well under the spec's 200 ms. Django's defaults
    (100 MiB, parallelism 8) cost several times more on a 2-core host. Same algorithm name, so
    existing argon2 hashes verify and are re-hashed to these parameters on login."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
