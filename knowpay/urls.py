import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from knowpay.views import media_serve

admin.site.site_header = "KnowPay administration"
admin.site.site_title = "KnowPay administration"
admin.site.index_title = "Payments, ledger, payouts and alerts"

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("courses.api_urls")),
    path("", include("payments.api_urls")),
]

# Unknown /api/ URLs and server errors there answer in the API's error envelope.
handler404 = "knowpay.api.page_not_found"
handler500 = "knowpay.api.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and Redoc from our own static files (drf-spectacular-sidecar), not a CDN; the split
    # view serves Swagger UI's start-up script as a file, which our CSP allows.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("payments.urls")),
    path("", include("courses.urls")),
]

if settings.PAYMENTS_SANDBOX:
    # The local gateway simulators exist only in sandbox mode; in production these URLs are 404.
    urlpatterns += [path("sandbox/", include("payments.simulators.urls"))]

urlpatterns += [re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", media_serve, name="media")]
