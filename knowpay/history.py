"""Admin history (django-simple-history) that never shows payment data in clear.

Staff see who changed what and when, with old and new values; encrypted fields (payout identity,
payer references) appear masked, and single historical versions are not opened as forms.
"""

from __future__ import annotations

from django.shortcuts import redirect
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from knowpay.crypto import EncryptedCharField, mask


class MaskedHistoryContextHelper(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        if isinstance(self.model._meta.get_field(change.field), EncryptedCharField):
            return mask(value or "")
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(SimpleHistoryAdmin):
    """A ModelAdmin with a "History" page listing every change: who, when, old → new (masked)."""

    def get_historical_record_context_helper(self, request, historical_record):
        return MaskedHistoryContextHelper(self.model, historical_record)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # A past version as a form would show every field in clear; the list of changes is enough.
        return redirect(f"{request.path.split('/history/')[0]}/history/")
