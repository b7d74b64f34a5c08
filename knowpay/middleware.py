"""Request middleware shared by every app."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

# Names by which a browser on this machine reaches a server on this machine.
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def _host_and_port(netloc: str) -> tuple[str, str]:
    host, _, port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
    return (host or netloc).lower(), port


class CanonicalHostMiddleware:
    """In sandbox mode, send a GET that arrived under another loopback name to SITE_URL's host.

    The session cookie belongs to the host it was set on, and gateways send the learner back to
    SITE_URL: browsing the demo at localhost while SITE_URL says 127.0.0.1 logs them out after
    paying. Only another name for this same server (a loopback name, the same port) is redirected;
    a phone reaching the demo by the computer's network address is served as it is.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.PAYMENTS_SANDBOX and request.method in ("GET", "HEAD"):
            target = self._canonical_url(request)
            if target:
                return HttpResponseRedirect(target)
        return self.get_response(request)

    @staticmethod
    def _canonical_url(request: HttpRequest) -> str:
        site = urlsplit(settings.SITE_URL)
        site_host, site_port = _host_and_port(site.netloc)
        host, port = _host_and_port(request.get_host())
        if host == site_host or host not in _LOOPBACK_NAMES:
            return ""
        default_port = "443" if site.scheme == "https" else "80"
        if (port or "80") != (site_port or default_port):
            return ""  # another server on this machine
        return f"{site.scheme}://{site.netloc}{request.get_full_path()}"
