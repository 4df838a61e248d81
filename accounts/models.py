from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper

# The spec says "alphanumeric" and its own example is john_doe: letters, digits and underscore.
username_validator = RegexValidator(
    regex=r"^[A-Za-z0-9_]{3,30}\Z",
    message="Use 3 to 30 characters: letters, digits and underscores only.",
)


class CaseInsensitiveUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(username__iexact=username)


class User(AbstractUser):
    """An account. Username and email are unique ignoring case (enforced by the database);
    email is stored lower-cased."""

    username = models.CharField(
        max_length=30,
        unique=True,
        validators=[username_validator],
        error_messages={"unique": "A user with that username already exists."},
    )
    email = models.EmailField(max_length=254, unique=True)

    objects: ClassVar[CaseInsensitiveUserManager] = CaseInsensitiveUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [
            # Upper, not Lower: it is the expression PostgreSQL's `iexact` lookup compiles to,
            # so the same index also serves case-insensitive username look-ups.
            models.UniqueConstraint(Upper("username"), name="user_username_ci_unique"),
            # Emails are stored lower-cased, so the plain unique index is case-insensitive;
            # this keeps it true for rows written by bulk inserts or raw SQL too.
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_lowercase"
            ),
        ]

    def save(self, *args, **kwargs):
        self.email = self.email.lower()
        super().save(*args, **kwargs)


class RevokedAccessToken(models.Model):
    """An access token revoked by logout before it expired. Lives in the database so every app
    instance refuses it at once; rows past `expires_at` are useless and purged by
    `manage.py purge_expired_tokens`."""

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.jti


class RevokedTokenFamily(models.Model):
    """Every token descended from one login (the refresh tokens of its rotation chain and the
    access tokens they issued), revoked because an already-rotated refresh token of the chain
    came back: someone holds a copy. `family` is the chain's first refresh-token id, carried in
    each of its tokens' `family` claim. Rows past `expires_at` (when the chain's last token
    would have expired anyway) are purged by `manage.py purge_expired_tokens`."""

    family = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.family
