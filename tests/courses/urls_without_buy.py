"""The site's pages with a payments app that has no buy URL yet."""

from django.urls import include, path

from tests.courses.urls_with_buy import _stub

payments_stub = (
    [
        path("orders/", _stub, name="order_list"),
        path("earnings/", _stub, name="earnings"),
        path("inbox/", _stub, name="inbox"),
    ],
    "payments",
)

urlpatterns = [
    path("accounts/", include("accounts.urls")),
    path("", include(payments_stub)),
    path("", include("courses.urls")),
]
