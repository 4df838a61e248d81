from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class RevocableJWTScheme(SimpleJWTScheme):
    """Declare our simplejwt subclass as the bearer scheme (drf-spectacular matches classes
    exactly, not by inheritance)."""

    target_class = "accounts.authentication.RevocableJWTAuthentication"
    name = "jwtAuth"
