from django.urls import path

from accounts.api import MeApi

# Included by knowpay.urls inside the "api" namespace: reverse("api:me").
urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
]
