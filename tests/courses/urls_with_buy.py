"""The site's pages with a stand-in for the payments app, whose buy URL the course page links to."""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path


def _stub(request, **kwargs):
    return HttpResponse("payments stub")


payments_stub = (
    [
        path("orders/", _stub, name="order_list"),
        path("earnings/", _stub, name="earnings"),
        path("inbox/", _stub, name="inbox"),
        path("courses/<str:slug>/buy/", _stub, name="buy"),
    ],
    "payments",
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include(payments_stub)),
    path("", include("courses.urls")),
]
