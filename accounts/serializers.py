from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.models import User, username_validator
from core.api import fields

# The shape of a JSON Web Token: three base64url parts.
JWT_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"


@extend_schema_serializer(component_name="Registration")
class RegisterInputSerializer(serializers.Serializer):
    username = fields.CharField(min_length=3, max_length=30, validators=[username_validator])
    email = fields.EmailField(max_length=254)
    password = fields.CharField(min_length=8, max_length=128, trim_whitespace=False)


@extend_schema_serializer(component_name="Login")
class LoginInputSerializer(serializers.Serializer):
    username = fields.CharField(required=False, max_length=254, help_text="Username or email.")
    email = fields.CharField(required=False, max_length=254, help_text="Email (or username).")
    password = fields.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        if not attrs.get("username") and not attrs.get("email"):
            raise serializers.ValidationError({"username": ["Give a username or an email."]})
        return attrs


class LoginInputSchema(OpenApiSerializerExtension):
    """One of `username` and `email` is required, which a serializer cannot say: `anyOf` two
    objects, one requiring each. (Branches naming only `required` trip Schemathesis 4.32's
    negative generator, which then calls a valid body invalid.)"""

    target_class = LoginInputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        properties = schema["properties"]
        schema["anyOf"] = [
            {"type": "object", "properties": properties, "required": [name, "password"]}
            for name in ("username", "email")
        ]
        return schema


class AuthOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    token = serializers.CharField(help_text="JWT access token: send as `Authorization: Bearer`.")
    refresh = serializers.CharField(help_text="JWT refresh token for /api/token/refresh/.")


# Any other string is refused as an invalid token (401 on refresh, 400 on logout), so the
# schema may state the shape the server does not need to check separately.
@extend_schema_field(
    {
        "type": "string",
        "pattern": JWT_PATTERN,
        "description": "A refresh token from register, login or token refresh.",
    }
)
class RefreshTokenField(fields.CharField):
    pass


@extend_schema_serializer(component_name="TokenRefresh")
class RefreshInputSerializer(serializers.Serializer):
    refresh = RefreshTokenField()


class TokenPairOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
    refresh = serializers.CharField()


@extend_schema_serializer(component_name="Logout")
class LogoutInputSerializer(serializers.Serializer):
    refresh = RefreshTokenField(required=False)


@extend_schema_serializer(component_name="ProfileUpdate")
class ProfileInputSerializer(serializers.Serializer):
    """Every field optional: PUT and PATCH both update the subset given. Anything else in the
    body (id, date_joined, is_staff, password) is ignored. A new email needs the current
    password."""

    username = fields.CharField(
        required=False, min_length=3, max_length=30, validators=[username_validator]
    )
    email = fields.EmailField(required=False, max_length=254)
    first_name = fields.TextField(required=False, allow_blank=True, max_length=150)
    last_name = fields.TextField(required=False, allow_blank=True, max_length=150)
    current_password = fields.CharField(
        required=False,
        max_length=128,
        trim_whitespace=False,
        help_text="Required to change the email.",
    )


@extend_schema_serializer(component_name="PasswordChange")
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
