"""Views that belong to no app."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.static import serve


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files, when this process is the one to serve them (SERVE_MEDIA; README "Deploying").

    Django's static() helper serves only with DEBUG, and a public demo runs without it. Only what is
    under MEDIA_ROOT is served (serve() refuses paths that leave it).
    """
    if not settings.SERVE_MEDIA:
        raise Http404("Uploaded files are served by the web server in front of this one.")
    return serve(request, path, document_root=settings.MEDIA_ROOT)
