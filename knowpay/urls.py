import re

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from knowpay.views import media_serve

SWAGGER_CDN = "https://cdn.jsdelivr.net"

admin.site.site_header = "KnowPay administration"
admin.site.site_title = "KnowPay administration"
admin.site.index_title = "Payments, ledger, payouts and alerts"

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("courses.api_urls")),
    path("", include("payments.api_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, which our CSP allows; its assets
    # still come from the CDN drf-spectacular points at, allowed on this page only.
    path(
        "api/docs/",
        csp_update({"script-src": [SWAGGER_CDN], "style-src": [SWAGGER_CDN], "img-src": [SWAGGER_CDN]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("", include("payments.urls")),
    path("", include("courses.urls")),
]

if settings.PAYMENTS_SANDBOX:
    # The local gateway simulators exist only in sandbox mode; in production these URLs are 404.
    urlpatterns += [path("sandbox/", include("payments.simulators.urls"))]

urlpatterns += [re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", media_serve, name="media")]
