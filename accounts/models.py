from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper

from core.validators import email_normalize, validate_email_normalizable, validate_visible_text

# The spec says "alphanumeric" and its own example is john_doe: letters, digits and underscore.
username_validator = RegexValidator(
    regex=r"^[A-Za-z0-9_]{3,30}\Z",
    message="Use 3 to 30 characters: letters, digits and underscores only.",
)


class CaseInsensitiveUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(username__iexact=username)

    @classmethod
    def normalize_email(cls, email):
        # Used by create_user() and the model's clean(); an address without a normal form is
        # left to the field's validator to refuse.
        try:
            return email_normalize(email or "")
        except ValidationError:
            return super().normalize_email(email)


class User(AbstractUser):
    """An account. Username and email are unique ignoring case (enforced by the database);
    email is stored in its normal form (core.validators.email_normalize: NFKC, IDNA domain,
    lower-cased)."""

    username = models.CharField(
        max_length=30,
        unique=True,
        validators=[username_validator],
        error_messages={"unique": "A user with that username already exists."},
    )
    email = models.EmailField(max_length=254, unique=True, validators=[validate_email_normalizable])
    first_name = models.CharField(
        "first name", max_length=150, blank=True, validators=[validate_visible_text]
    )
    last_name = models.CharField(
        "last name", max_length=150, blank=True, validators=[validate_visible_text]
    )

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
