"""DRF throttles of the API (rates in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])."""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import ScopedRateThrottle


class WriteScopedRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, counting only writes: reading a list never uses up a money budget."""

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
