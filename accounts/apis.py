from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.serializers import (
    AuthOutputSerializer,
    LoginInputSerializer,
    LogoutInputSerializer,
    PasswordChangeInputSerializer,
    ProfileInputSerializer,
    ProfileOutputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenPairOutputSerializer,
)
from accounts.services import (
    token_pair_create,
    token_refresh,
    token_revoke,
    user_create,
    user_login,
    user_password_change,
    user_update,
)
from core.api.schema import error_responses

JOHN_DOE_AUTH = OpenApiExample(
    "john_doe",
    value={
        "id": 1,
        "username": "john_doe",
        "email": "john@example.com",
        "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
        "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
    },
    response_only=True,
)


def _token_pair_payload(refresh) -> dict:
    return TokenPairOutputSerializer(
        {"token": str(refresh.access_token), "refresh": str(refresh)}
    ).data


def _auth_payload(user) -> dict:
    refresh = token_pair_create(user=user)
    return AuthOutputSerializer(
        {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "token": str(refresh.access_token),
            "refresh": str(refresh),
        }
    ).data


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [*APIView.throttle_classes, ScopedRateThrottle]  # the defaults, plus
    throttle_scope = "register"

    @extend_schema(
        tags=["accounts"],
        summary="Create an account",
        description="Registers a user and signs them in: the answer carries a token pair. The "
        "username (3 to 30 letters, digits or underscores) and the email must not belong to "
        "another account, whatever their case, and the password must pass the password rules "
        "(not too common, not all digits, not like the username); each failure is a 400 naming "
        "the field.",
        request=RegisterInputSerializer,
        responses={201: AuthOutputSerializer},
        auth=[],
        examples=[
            OpenApiExample(
                "john_doe",
                value={
                    "username": "john_doe",
                    "email": "john@example.com",
                    "password": "securepass123",
                },
                request_only=True,
            ),
            JOHN_DOE_AUTH,
        ],
    )
    def post(self, request):
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(**serializer.validated_data)
        return Response(_auth_payload(user), status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["accounts"],
        summary="Sign in",
        description="Give the password and the username or the email (either field takes "
        "either). Wrong credentials are a 401, the same for an unknown account and a wrong "
        "password. Failed attempts are limited per account and per client address: past the "
        "limit the answer is a 429 with `Retry-After`.",
        request=LoginInputSerializer,
        responses={200: AuthOutputSerializer, **error_responses(401, 429)},
        auth=[],
        examples=[
            OpenApiExample(
                "john_doe",
                value={"username": "john_doe", "password": "securepass123"},
                request_only=True,
            ),
            JOHN_DOE_AUTH,
        ],
    )
    def post(self, request):
        serializer = LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data.get("username") or serializer.validated_data["email"]
        user = user_login(
            request=request, name=name, password=serializer.validated_data["password"]
        )
        return Response(_auth_payload(user))


class TokenRefreshApi(APIView):
    """Rotate a refresh token: the old one is blacklisted, a new pair is returned."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        # A bad refresh token is a 401; DRF answers 403 on views without authenticators.
        return 'Bearer realm="api"'

    @extend_schema(
        tags=["accounts"],
        summary="Refresh the token pair",
        description="Trades a refresh token for a new access and refresh token. The refresh "
        "token sent is used up: sending it again, like sending an expired, revoked or forged "
        "one, is a 401.",
        request=RefreshInputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(401)},
        auth=[],
    )
    def post(self, request):
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refresh = token_refresh(raw_refresh=serializer.validated_data["refresh"])
        return Response(_token_pair_payload(refresh))


class LogoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["accounts"],
        summary="Sign out",
        description="Revokes the access token the request is made with, at once, and the "
        "refresh token if one is sent. A `refresh` that is not a live token issued by this "
        "server is a 400.",
        request=LogoutInputSerializer,
        responses={204: None},
    )
    def post(self, request):
        serializer = LogoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_revoke(access_token=request.auth, refresh=serializer.validated_data.get("refresh"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    """Change the password: every token issued before stops working, the caller gets a fresh
    pair."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["accounts"],
        summary="Change your password",
        description="Needs the current password (a wrong one is a 400 naming "
        "`current_password`; repeated failures are throttled like logins, 429). The new "
        "password must pass the password rules (not too short, common, all digits or like the "
        "username). Every token issued before stops working; the answer is a fresh pair.",
        request=PasswordChangeInputSerializer,
        responses={200: TokenPairOutputSerializer},
    )
    def post(self, request):
        serializer = PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_password_change(request=request, user=request.user, **serializer.validated_data)
        refresh = token_pair_create(user=user)
        return Response(_token_pair_payload(refresh))


PROFILE_UPDATE = (
    "Changes any of username, email, first and last name; PUT and PATCH alike take any subset, "
    "and other fields in the body are ignored. A new email needs `current_password`, the "
    "account's password (wrong or missing: a 400 naming it). A username or email that belongs "
    "to another account, whatever its case, is a 400 naming the field."
)


class ProfileApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["accounts"],
        summary="Read your profile",
        description="The signed-in user's account.",
        responses={200: ProfileOutputSerializer},
    )
    def get(self, request):
        return Response(ProfileOutputSerializer(request.user).data)

    @extend_schema(
        tags=["accounts"],
        summary="Update your profile",
        description=PROFILE_UPDATE,
        request=ProfileInputSerializer,
        responses={200: ProfileOutputSerializer},
    )
    def put(self, request):
        serializer = ProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update(request=request, user=request.user, **serializer.validated_data)
        return Response(ProfileOutputSerializer(user).data)

    @extend_schema(
        tags=["accounts"],
        summary="Update part of your profile",
        description=PROFILE_UPDATE,
        request=ProfileInputSerializer,
        responses={200: ProfileOutputSerializer},
    )
    def patch(self, request):
        return self.put(request)
