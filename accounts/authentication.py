from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.selectors import user_get_for_access_token
from accounts.services import FAMILY_CLAIM


class RevocableJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, plus the logout denylist for access tokens
    (simplejwt's own blacklist covers refresh tokens only) and revoked token families.

    The denylist check rides on the user look-up, so an authenticated request costs one query,
    not two; the checks after it are simplejwt's own (active user, password unchanged)."""

    def get_user(self, validated_token):
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        user = user_get_for_access_token(
            user_id=user_id,
            jti=validated_token[api_settings.JTI_CLAIM],
            family=validated_token.get(FAMILY_CLAIM),
        )
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if user.token_revoked:
            raise InvalidToken({"detail": "Token has been revoked."})
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        revoke_claim = validated_token.get(api_settings.REVOKE_TOKEN_CLAIM)
        if revoke_claim != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
        return user
