"""Password validators beyond Django's own (AUTH_PASSWORD_VALIDATORS)."""

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError


class NonWhitespaceLengthValidator(MinimumLengthValidator):
    """Django's minimum length, counting only characters that are not whitespace: its own
    validator counts every character, so ten spaces (or a tab and a few letters) passed it."""

    def validate(self, password: str, user=None) -> None:
        if sum(not character.isspace() for character in password) < self.min_length:
            raise ValidationError(
                "This password must contain at least %(min_length)d characters that are not "
                "spaces.",
                code="password_too_little_non_whitespace",
                params={"min_length": self.min_length},
            )

    def get_help_text(self) -> str:
        return (
            f"Your password must contain at least {self.min_length} characters that are not spaces."
        )
