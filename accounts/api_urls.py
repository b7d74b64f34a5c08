from django.urls import path

from accounts.api import MeApi, TokenObtainApi, TokenRefreshApi, TokenRevokeApi

# Included by knowpay.urls inside the "api" namespace: reverse("api:me").
urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("auth/token/", TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/token/revoke/", TokenRevokeApi.as_view(), name="token-revoke"),
]
