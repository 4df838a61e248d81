from datetime import UTC, datetime

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import RevokedAccessToken, User
from core.cache_generations import LISTINGS, cache_generations_forget_on_commit
from core.exceptions import InvalidCredentials, TokenInvalid
from core.metrics import LOGIN_FAILURES

USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "A user with that email already exists."


def _check_identity_is_free(*, username: str | None, email: str | None, exclude_pk=None) -> None:
    """Raise ValidationError naming each of username/email already used by another account."""
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    errors = {}
    if username is not None and others.filter(username__iexact=username).exists():
        errors["username"] = [USERNAME_TAKEN]
    if email is not None and others.filter(email=email.lower()).exists():
        errors["email"] = [EMAIL_TAKEN]
    if errors:
        raise ValidationError(errors)


def _save_with_unique_identity(user: User) -> None:
    """Save, turning a lost race on the unique username/email indexes into a ValidationError."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Both pre-checks passed but a concurrent request took the name: re-run them to say which.
        _check_identity_is_free(username=user.username, email=user.email, exclude_pk=user.pk)
        raise exc


def user_create(*, username: str, email: str, password: str) -> User:
    """Register an account. Raises ValidationError for a taken username/email (ignoring case)
    or a password that fails the configured validators."""
    _check_identity_is_free(username=username, email=email)
    user = User(username=username, email=email.lower())
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    _save_with_unique_identity(user)
    return user


def user_update(
    *,
    user: User,
    username: str | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User:
    """Update profile fields that are given. Raises ValidationError if the new username/email
    belongs to another account; the user's own are fine whatever their case."""
    _check_identity_is_free(username=username, email=email, exclude_pk=user.pk)
    changes = {
        "username": username,
        "email": email.lower() if email is not None else None,
        "first_name": first_name,
        "last_name": last_name,
    }
    renamed = username is not None and username != user.username
    for field, value in changes.items():
        if value is not None:
            setattr(user, field, value)
    _save_with_unique_identity(user)
    if renamed:
        # Property lists and details show the owner's username.
        cache_generations_forget_on_commit(LISTINGS)
    return user


def user_authenticate(*, request, name: str, password: str) -> User:
    """The account for a login name (username or email) and password. Raises
    InvalidCredentials, the same for an unknown name and a wrong password."""
    user = authenticate(request, username=name, password=password)
    if user is None:
        LOGIN_FAILURES.inc()
        raise InvalidCredentials()
    return user


def token_pair_create(*, user: User) -> RefreshToken:
    """Issue a refresh token (recorded for the blacklist) whose `.access_token` is the pair."""
    return RefreshToken.for_user(user)


def token_refresh(*, raw_refresh: str) -> RefreshToken:
    """Rotate a refresh token: the presented one is used up and a new pair is issued. Raises
    TokenInvalid if it is malformed, expired, already used or revoked, or belongs to an account
    that is gone, inactive, or has changed its password since."""
    try:
        presented = RefreshToken(raw_refresh)  # signature, expiry, type, blacklist
    except TokenError as exc:
        raise TokenInvalid(str(exc)) from exc
    with transaction.atomic():
        # Two requests presenting one token queue on this row; the second then finds it used.
        outstanding = (
            OutstandingToken.objects.select_for_update().filter(jti=presented["jti"]).first()
        )
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            raise TokenInvalid("Token is blacklisted")
        user = User.objects.filter(pk=presented.get("user_id"), is_active=True).first()
        if user is None:
            raise TokenInvalid("No active account found for the given token.")
        if presented.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise TokenInvalid("The user's password has been changed.")
        BlacklistedToken.objects.create(token=outstanding)
        return RefreshToken.for_user(user)


def token_revoke(*, access_token: AccessToken, refresh: str | None = None) -> None:
    """Log out: the access token, and the refresh token if given, stop working everywhere.
    Raises ValidationError if `refresh` is not a valid refresh token of the same user;
    nothing is revoked then."""
    refresh_token = None
    if refresh is not None:
        try:
            refresh_token = RefreshToken(refresh)
        except TokenError as exc:
            raise ValidationError({"refresh": [str(exc)]}) from exc
        if refresh_token.get("user_id") != access_token.get("user_id"):
            raise ValidationError({"refresh": ["Token belongs to another user."]})

    with transaction.atomic():
        RevokedAccessToken.objects.get_or_create(
            jti=access_token["jti"],
            defaults={"expires_at": datetime.fromtimestamp(access_token["exp"], tz=UTC)},
        )
        if refresh_token is not None:
            refresh_token.blacklist()


def expired_tokens_purge() -> int:
    """Delete denylist rows whose tokens have expired anyway; returns how many went."""
    deleted, _ = RevokedAccessToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
