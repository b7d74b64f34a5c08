"""DRF throttles of the API (rates in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

DRF's throttles copy the rates once, at import; ours read them when they count, so the rates in
settings are the ones in force (and tests can change them).
"""

from rest_framework import throttling
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings


class _RatesFromSettings:
    @property
    def THROTTLE_RATES(self):  # DRF names it so
        return api_settings.DEFAULT_THROTTLE_RATES


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    """Callers without credentials, per address."""


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    """Signed-in callers, per user."""


class WriteScopedRateThrottle(_RatesFromSettings, throttling.ScopedRateThrottle):
    """A view's own budget (`throttle_scope`), counting only writes: reading never uses it up."""

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
