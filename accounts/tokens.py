"""Bearer tokens for non-browser clients (djangorestframework-simplejwt), beside the session.

A token carries a digest of the user's password hash (simplejwt's CHECK_REVOKE_TOKEN), so a
password change, by any path, revokes every access token issued before it; refreshing such a
token is refused too, and the refused refresh token is blacklisted. Log-in through the token
endpoint counts towards the same lockout (django-axes) as the log-in page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password


class LockedOut(Throttled):
    """429 with Retry-After (the cool-off), like a throttled request, under its own code."""

    default_detail = "Too many failed log-ins: this account or address is locked for a while."
    default_code = "locked_out"


class TokenObtainSerializer(jwt_serializers.TokenObtainPairSerializer):
    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except AuthenticationFailed:
            # Axes refused before the password was checked: say so, as the log-in page does.
            if getattr(self.context.get("request"), "axes_locked_out", False):
                raise LockedOut(wait=settings.AXES_COOLOFF_TIME.total_seconds()) from None
            raise


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    def validate(self, attrs):
        refresh = RefreshToken(attrs["refresh"])
        user = (
            get_user_model()
            .objects.filter(**{api_settings.USER_ID_FIELD: refresh.payload.get(api_settings.USER_ID_CLAIM)})
            .first()
        )
        if user is None or refresh.payload.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            refresh.blacklist()
            raise TokenError("This token was revoked by a password change.")
        return super().validate(attrs)
