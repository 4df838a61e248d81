from rest_framework import serializers

from accounts.models import User, username_validator
from core.api import fields


class RegisterInputSerializer(serializers.Serializer):
    username = fields.CharField(max_length=30, validators=[username_validator])
    email = fields.EmailField(max_length=254)
    password = fields.CharField(min_length=8, max_length=128, trim_whitespace=False)


class LoginInputSerializer(serializers.Serializer):
    username = fields.CharField(required=False, max_length=254, help_text="Username or email.")
    email = fields.CharField(required=False, max_length=254)
    password = fields.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        if not attrs.get("username") and not attrs.get("email"):
            raise serializers.ValidationError({"username": ["Give a username or an email."]})
        return attrs


class AuthOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    token = serializers.CharField(help_text="JWT access token: send as `Authorization: Bearer`.")
    refresh = serializers.CharField(help_text="JWT refresh token for /api/token/refresh/.")


class RefreshInputSerializer(serializers.Serializer):
    refresh = fields.CharField()


class TokenPairOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
    refresh = serializers.CharField()


class LogoutInputSerializer(serializers.Serializer):
    refresh = fields.CharField(required=False)


class ProfileInputSerializer(serializers.Serializer):
    """Every field optional: PUT and PATCH both update the subset given. Anything else in the
    body (id, date_joined, is_staff, password) is ignored. A new email needs the current
    password."""

    username = fields.CharField(required=False, max_length=30, validators=[username_validator])
    email = fields.EmailField(required=False, max_length=254)
    first_name = fields.CharField(required=False, allow_blank=True, max_length=150)
    last_name = fields.CharField(required=False, allow_blank=True, max_length=150)
    current_password = fields.CharField(
        required=False,
        max_length=128,
        trim_whitespace=False,
        help_text="Required to change the email.",
    )


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = fields.CharField(max_length=128, trim_whitespace=False)
    new_password = fields.CharField(
        max_length=128,
        trim_whitespace=False,
        help_text="Checked by the password validators (length, common, numeric, similarity).",
    )


class ProfileOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "date_joined"]
        read_only_fields = fields
