"""What every page's header shows about the signed-in person."""

from django.utils.functional import SimpleLazyObject

from payments.selectors.inbox import inbox_unread_count


def inbox(request) -> dict:
    """The unread count in the header: counted on first use only, and once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"inbox_unread": 0}

    def unread() -> int:
        if not hasattr(request, "_inbox_unread"):
            request._inbox_unread = inbox_unread_count(user=user)
        return request._inbox_unread

    return {"inbox_unread": SimpleLazyObject(unread)}
