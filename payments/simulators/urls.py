"""Mounts each gateway's local simulator under /sandbox/<channel>/ (sandbox mode only)."""

from django.urls import include, path

from payments.gateways import gateway_classes_all

urlpatterns = [
    path(f"{gateway.channel}/", include(gateway.simulator_urls))
    for gateway in gateway_classes_all()
    if gateway.simulator_urls
]
