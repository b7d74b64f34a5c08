"""What django-axes records of a failed log-in (settings.AXES_USERNAME_CALLABLE)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from accounts.models import User

# No account has a longer username; axes stores it in a column of 255 characters.
_USERNAME_MAX = User._meta.get_field("username").max_length


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username a failed log-in tried, as axes counts it: from the credentials (log-in page,
    admin, token endpoint) or the POST, cut to the longest username an account can have, so junk
    of any length is counted against one name instead of failing to be recorded."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = (credentials or getattr(request, "data", request.POST)).get(field)
    return username[:_USERNAME_MAX] if isinstance(username, str) else username
