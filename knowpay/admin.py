"""What every ModelAdmin of ours shares."""

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


class BoundedDateHierarchyMixin:
    def get_changelist(self, request, **kwargs):
        return BoundedDateChangeList
