"""Rate limits for pages and notify endpoints, counted in the shared cache (django-ratelimit).

Limits are named in settings.RATE_LIMITS ("count/period"); the API uses DRF's throttles instead,
with the same cache. A limited request gets 429 with Retry-After: a page explaining it, or for
the API and gateways a short body.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from knowpay.api import API_PREFIX, error_body


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or behind our proxy (USE_X_FORWARDED_FOR) the address it saw.

    Our proxy appends the address it was connected from, so only the last X-Forwarded-For entry is
    trusted; anything before it was written by the client.
    """
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 (an unknown address, not a bind)


def ratelimit_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    message = "Too many requests. Please wait a moment and try again."
    if request.path.startswith(API_PREFIX) or request.path.startswith("/payments/notify/"):
        response = JsonResponse(error_body("throttled", message), status=429)
    else:
        response = render(request, "rate_limited.html", {"message": message, "retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(name: str, *, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Limit a view to settings.RATE_LIMITS[name] requests per client address (only `methods` count)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            usage = get_usage(
                request,
                group=f"knowpay.{name}",
                key=ratelimit_key,
                rate=settings.RATE_LIMITS[name],
                method=list(methods),
                increment=True,
            )
            if usage is not None and usage["should_limit"]:
                return too_many_requests(request, retry_after=max(1, math.ceil(usage["time_left"])))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
