from typing import TYPE_CHECKING, TypedDict

from django.db.models import BooleanField, Exists, ExpressionWrapper, Q
from django.db.models.expressions import Combinable

from accounts.models import RevokedAccessToken, RevokedTokenFamily, User
from core.compiled_queries import CompiledQuery, model_columns, model_instances

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class TokenRevokedAnnotation(TypedDict):
    token_revoked: bool


_USER_COLUMNS = model_columns(User)


def _user_with_revocation(user_id: int, jti: str, family: str | None = None):
    revoked: Q | Combinable = Exists(RevokedAccessToken.objects.filter(jti=jti))
    if family is not None:
        revoked |= Exists(RevokedTokenFamily.objects.filter(family=family))
    return User.objects.filter(pk=user_id).values(
        *_USER_COLUMNS, token_revoked=ExpressionWrapper(revoked, output_field=BooleanField())
    )[:1]


# Every authenticated request runs one of these: compiled once per process.
_USER_FOR_TOKEN = CompiledQuery(_user_with_revocation, "user_id", "jti")
_USER_FOR_TOKEN_IN_FAMILY = CompiledQuery(_user_with_revocation, "user_id", "jti", "family")


def user_get_for_access_token(
    *, user_id: str, jti: str, family: str | None
) -> "WithAnnotations[User, TokenRevokedAnnotation] | None":
    """The access token's user, with `token_revoked` True when logout denylisted this token
    or its family was revoked (a reused refresh token): all in one query."""
    if not str(user_id).isdigit():  # ids come from signed tokens; anything else is no user
        return None
    if family is None:
        rows = _USER_FOR_TOKEN.rows(user_id=int(user_id), jti=jti)
    else:
        rows = _USER_FOR_TOKEN_IN_FAMILY.rows(user_id=int(user_id), jti=jti, family=family)
    if not rows:
        return None
    row = rows[0]
    (user,) = model_instances(User, [row], _USER_COLUMNS)
    user.token_revoked = row["token_revoked"]
    return user


def user_get_by_login_name(*, name: str) -> User | None:
    """The account a login name means: its username or its email, ignoring case.

    Usernames are ASCII, so a non-ASCII name is never a username: PostgreSQL's UPPER() folds
    Unicode (U+017F, long s, to "S"), and letting it would give one account many spellings."""
    match = Q(email=name.lower())
    if name.isascii():
        match |= Q(username__iexact=name)
    return User.objects.filter(match).order_by("pk").first()
