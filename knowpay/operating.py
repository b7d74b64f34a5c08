"""The endpoints an operator's tools call: /healthz, /readyz and /metrics.

They are answered by a middleware ahead of the security, session, CSRF and host checks: probes
and scrapers call the process by its own address (a pod IP as the Host, plain HTTP behind the TLS
proxy), and must get an answer, not a DisallowedHost 400 or an HTTPS redirect. None of them sets a
cookie, and every answer says `Cache-Control: no-store`, so no proxy serves a stale health.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from knowpay.health import readiness_report
from knowpay.metrics import metrics_exposition

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def healthz(request) -> HttpResponse:
    """The process is alive and answering; nothing else is asked (a restart would not fix a dependency)."""
    return JsonResponse({"status": "ok"})


def readyz(request) -> HttpResponse:
    """Ready to serve: every critical dependency answers. 503 when not, with every check's result."""
    ready, report = readiness_report()
    return HttpResponse(json.dumps(report), content_type="application/json", status=200 if ready else 503)


def metrics(request) -> HttpResponse:
    """Prometheus exposition for a holder of METRICS_TOKEN or a client in METRICS_ALLOWED_NETWORKS.

    With neither configured the endpoint does not exist (404); a client that is neither gets 403.
    """
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    if not (_bearer_matches(request, token) or _address_allowed(request, networks)):
        return HttpResponse("Forbidden.", status=403, content_type="text/plain")
    return HttpResponse(metrics_exposition(), content_type=PROMETHEUS_CONTENT_TYPE)


def _bearer_matches(request, token: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip(), token)


def _address_allowed(request, networks: list[str]) -> bool:
    # The direct peer, never X-Forwarded-For: a header anyone can write opens nothing.
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


_ENDPOINTS = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics}


class OperatingEndpointsMiddleware:
    """Answers the operating endpoints before the rest of the middleware runs (see the module doc)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        view = _ENDPOINTS.get(request.path_info.rstrip("/") or "/")
        if view is None:
            return self.get_response(request)
        request.metrics_view = view.__name__
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        else:
            response = view(request)
        response["Cache-Control"] = "no-store"
        return response
