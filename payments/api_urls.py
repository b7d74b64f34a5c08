"""Payments API routes (included under /api/v1/ with the namespace "api")."""

from django.urls import include, path

urlpatterns = [
    path("", include("payments.api.orders")),
    path("", include("payments.api.earnings")),
]
