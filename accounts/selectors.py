from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, Q

from accounts.models import RevokedAccessToken, User

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class TokenRevokedAnnotation(TypedDict):
    token_revoked: bool


def user_get_for_access_token(
    *, user_id: str, jti: str
) -> "WithAnnotations[User, TokenRevokedAnnotation] | None":
    """The access token's user, with `token_revoked` True when logout denylisted this token:
    both in one query."""
    if not str(user_id).isdigit():  # ids come from signed tokens; anything else is no user
        return None
    revoked = RevokedAccessToken.objects.filter(jti=jti)
    return User.objects.annotate(token_revoked=Exists(revoked)).filter(pk=user_id).first()


def user_get_by_login_name(*, name: str, lock: bool = False) -> User | None:
    """The account a login name means: its username or its email, ignoring case.

    Usernames are ASCII, so a non-ASCII name is never a username: PostgreSQL's UPPER() folds
    Unicode (U+017F, long s, to "S"), and letting it would give one account many spellings.
    With `lock`, the row stays locked until the caller's transaction ends."""
    match = Q(email=name.lower())
    if name.isascii():
        match |= Q(username__iexact=name)
    users = User.objects.select_for_update() if lock else User.objects.all()
    return users.filter(match).order_by("pk").first()
