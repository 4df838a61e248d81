from collections.abc import Callable
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

from accounts.models import RevokedAccessToken, RevokedTokenFamily, User
from accounts.throttles import LoginAddressThrottle, LoginNameThrottle, login_throttles_lock
from core.cache_generations import LISTINGS, cache_generations_forget_on_commit
from core.exceptions import InvalidCredentials, LoginThrottled, TokenInvalid
from core.metrics import LOGIN_FAILURES, LOGIN_LOCKOUTS
from core.validators import email_normalize

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


def _email_normalize(email: str) -> str:
    try:
        return email_normalize(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc


def user_create(*, username: str, email: str, password: str) -> User:
    """Register an account. Raises ValidationError for an email without a normal form, a taken
    username/email (ignoring case; emails compared in their normal form) or a password that
    fails the configured validators."""
    email = _email_normalize(email)
    _check_identity_is_free(username=username, email=email)
    user = User(username=username, email=email)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    _save_with_unique_identity(user)
    return user


def user_update(
    *,
    request,
    user: User,
    username: str | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    current_password: str | None = None,
) -> User:
    """Update profile fields that are given. A new email needs `current_password` (whoever
    controls the email can reset the password, so it must not change on a stolen access token
    alone); it is compared and stored in its normal form. Raises ValidationError naming `email`
    when it has no normal form, `current_password` when it is missing or wrong, or
    username/email if they belong to another account; the user's own are fine whatever their
    case. LoginThrottled while the username has too many failed password checks."""
    if email is not None:
        email = _email_normalize(email)
    if email is not None and email != user.email:
        _current_password_confirm(request=request, user=user, current_password=current_password)
    _check_identity_is_free(username=username, email=email, exclude_pk=user.pk)
    changes = {
        "username": username,
        "email": email,
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


def user_password_change(*, request, user: User, current_password: str, new_password: str) -> User:
    """Replace the password. Every token issued before, the caller's included, stops working:
    each carries a hash of the password it was issued under (CHECK_REVOKE_TOKEN). Raises
    ValidationError naming `current_password` (wrong) or `new_password` (refused by
    AUTH_PASSWORD_VALIDATORS), nothing changed; LoginThrottled as user_update."""
    _current_password_confirm(request=request, user=user, current_password=current_password)
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


def _password_check_counted(*, request, name: str, check: Callable[[], User | None]) -> User | None:
    """`check()` (a password check: the user, or None when it fails), counted against the
    failed-login limits of `name` and of the client address. Raises LoginThrottled, without
    checking, while either is over its limit."""
    throttles = [LoginNameThrottle(name=name), LoginAddressThrottle(request=request)]
    with transaction.atomic():
        # Checks on one name or from one address queue here, and a failure is recorded before
        # the lock is released: a burst of simultaneous attempts cannot slip past the limit.
        login_throttles_lock(throttles)
        refused = [throttle for throttle in throttles if not throttle.allows_attempt()]
        if refused:
            for throttle in refused:
                LOGIN_LOCKOUTS.labels(scope=throttle.scope).inc()
            waits = [throttle.wait() for throttle in refused]
            raise LoginThrottled(wait=max(waits, key=lambda wait: wait or 0))
        user = check()
        if user is None:
            LOGIN_FAILURES.inc()
            # Recorded inside the transaction: the shared cache may be a database table.
            for throttle in throttles:
                throttle.record_failure()
    return user


def user_login(*, request, name: str, password: str) -> User:
    """The account for a login name (username or email) and password; the API and the admin
    both log in here. Raises LoginThrottled while the name or the client address has too many
    recent failures (even for the right password), else InvalidCredentials, the same for an
    unknown name and a wrong password."""
    user = _password_check_counted(
        request=request,
        name=name,
        check=lambda: authenticate(request, username=name, password=password),
    )
    if user is None:
        raise InvalidCredentials()
    return user


def _current_password_confirm(*, request, user: User, current_password: str | None) -> None:
    """Raise ValidationError naming `current_password` unless it is the user's password. A wrong
    one counts as a failed login of the username (a stolen access token must not become an
    unlimited password oracle); raises LoginThrottled while that name is locked."""
    if not current_password:
        raise ValidationError({"current_password": ["Give your current password."]})
    confirmed = _password_check_counted(
        request=request,
        name=user.username,
        check=lambda: user if user.check_password(current_password) else None,
    )
    if confirmed is None:
        raise ValidationError({"current_password": ["The current password is wrong."]})


FAMILY_CLAIM = "family"


class _RotatableRefreshToken(RefreshToken):
    """A refresh token checked for signature, expiry and type only: whether it was used up
    (blacklisted) is token_refresh's question, asked under the token's row lock."""

    def check_blacklist(self) -> None:
        pass


def _token_family(token: RefreshToken) -> str:
    # Tokens issued before families existed are each the root of their own.
    return token.get(FAMILY_CLAIM) or token[jwt_settings.JTI_CLAIM]


def token_pair_create(*, user: User, family: str | None = None) -> RefreshToken:
    """Issue a refresh token (recorded for the blacklist) whose `.access_token` is the pair.
    A login starts a new family (named by this token's id); a rotation passes its own on. The
    access token copies the claim, so revoking a family reaches it too."""
    refresh = RefreshToken.for_user(user)
    refresh[FAMILY_CLAIM] = family or refresh[jwt_settings.JTI_CLAIM]
    return refresh


def _token_family_revoke(*, family: str) -> None:
    """Revoke every token of a family, wherever it is presented (RevocableJWTAuthentication,
    token_refresh); the row lives as long as the family's newest refresh token could."""
    RevokedTokenFamily.objects.get_or_create(
        family=family,
        defaults={"expires_at": timezone.now() + jwt_settings.REFRESH_TOKEN_LIFETIME},
    )


def token_refresh(*, raw_refresh: str) -> RefreshToken:
    """Rotate a refresh token: the presented one is used up and a new pair of its family is
    issued. Raises TokenInvalid if it is malformed, expired, revoked, or belongs to an account
    that is gone, inactive, or has changed its password since. A token that was already used
    (blacklisted) also revokes its whole family, every token descended from the same login:
    per the OAuth 2.0 Security BCP, its return means a copy is in someone else's hands, and
    we cannot tell which of the two holders is the rightful one."""
    try:
        # simplejwt annotates `token` as a Token; it is the encoded string it then decodes.
        presented = _RotatableRefreshToken(raw_refresh)  # type: ignore[arg-type]
    except TokenError as exc:
        raise TokenInvalid(str(exc)) from exc
    family = _token_family(presented)
    with transaction.atomic():
        # Two requests presenting one token queue on this row; the second then finds it used.
        outstanding = (
            OutstandingToken.objects.select_for_update().filter(jti=presented["jti"]).first()
        )
        if outstanding is None:
            raise TokenInvalid("Token is blacklisted")
        reused = BlacklistedToken.objects.filter(token=outstanding).exists()
        if reused:
            _token_family_revoke(family=family)  # committed: the error is raised below
        else:
            if RevokedTokenFamily.objects.filter(family=family).exists():
                raise TokenInvalid("Token has been revoked.")
            user = User.objects.filter(pk=presented.get("user_id"), is_active=True).first()
            if user is None:
                raise TokenInvalid("No active account found for the given token.")
            revoke_claim = presented.get(jwt_settings.REVOKE_TOKEN_CLAIM)
            if revoke_claim != get_md5_hash_password(user.password):
                raise TokenInvalid("The user's password has been changed.")
            BlacklistedToken.objects.create(token=outstanding)
            rotated = token_pair_create(user=user, family=family)
    if reused:
        raise TokenInvalid("Token was already used; every token of its login is now revoked.")
    return rotated


def token_revoke(*, access_token: AccessToken, refresh: str | None = None) -> None:
    """Log out: the access token, and the refresh token if given, stop working everywhere.
    Raises ValidationError if `refresh` is not a valid refresh token of the same user;
    nothing is revoked then."""
    refresh_token = None
    if refresh is not None:
        try:
            refresh_token = RefreshToken(refresh)  # type: ignore[arg-type]  # str, as above
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
    """Delete denylist rows (revoked access tokens and token families) whose tokens have
    expired anyway; returns how many went."""
    now = timezone.now()
    tokens, _ = RevokedAccessToken.objects.filter(expires_at__lte=now).delete()
    families, _ = RevokedTokenFamily.objects.filter(expires_at__lte=now).delete()
    return tokens + families
