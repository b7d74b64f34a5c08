"""Account API: thin adapters over accounts.selectors."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from accounts.selectors import creator_profile_get


class CreatorProfileOutputSerializer(serializers.Serializer):
    display_name = serializers.CharField()
    bio = serializers.CharField()
    has_payout_account = serializers.SerializerMethodField()

    def get_has_payout_account(self, profile) -> bool:
        return bool(profile.payout_alipay_account and profile.payout_alipay_name)


class MeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    is_creator = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    creator_profile = CreatorProfileOutputSerializer(allow_null=True)


class MeApi(APIView):
    @extend_schema(operation_id="me_retrieve", responses=MeOutputSerializer, tags=["accounts"])
    def get(self, request: Request) -> Response:
        """The signed-in user, and whether they are a creator."""
        user = request.user
        creator_profile = creator_profile_get(user=user)
        data = {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "is_creator": creator_profile is not None,
            "is_staff": user.is_staff,
            "creator_profile": creator_profile,
        }
        return Response(MeOutputSerializer(data).data)


# Token log-in for non-browser clients: throttled per address ("auth" scope) and locked out with
# the log-in page (django-axes) after repeated failures.


@extend_schema_view(post=extend_schema(operation_id="auth_token_obtain", tags=["auth"]))
class TokenObtainApi(jwt_views.TokenObtainPairView):
    """Exchange a username and password for an access token (short-lived) and a refresh token."""

    throttle_scope = "auth"


@extend_schema_view(post=extend_schema(operation_id="auth_token_refresh", tags=["auth"]))
class TokenRefreshApi(jwt_views.TokenRefreshView):
    """A new access token (and a new refresh token; the old one stops working). Refused after a password change."""

    throttle_scope = "auth"


@extend_schema_view(post=extend_schema(operation_id="auth_token_revoke", tags=["auth"]))
class TokenRevokeApi(jwt_views.TokenBlacklistView):
    """Log out a client: its refresh token stops working at once (its access token expires soon after)."""

    throttle_scope = "auth"
