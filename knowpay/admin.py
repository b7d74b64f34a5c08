"""What every ModelAdmin shares, ours and those of the libraries we install (axes, history)."""

from django.contrib.admin import AdminSite
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


class BoundedDateChangeList(ChangeList):
    """Django's change list, except that a date hierarchy at the end of the calendar (year 9999, whose
    next year does not exist) is an unusable lookup (the whole list, `?e=1`), not a server error."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


def change_lists_bound(site: AdminSite) -> None:
    """Give every registered ModelAdmin that uses Django's own change list the bounded one.

    Called once the admin modules are loaded, so third-party admins get it too.
    """
    for model_admin in site._registry.values():
        if model_admin.get_changelist(None) is ChangeList:
            model_admin.get_changelist = lambda request, **kwargs: BoundedDateChangeList
