"""Admin for staff alerts: the incidents (resolved by staff here, or when their condition clears) and
the silences of a kind of alert."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.utils import timezone

from payments.admin.core import ReadOnlyAdmin
from payments.models import Alert, AlertSilence
from payments.services.alerts import alert_resolve, alert_silence, alert_silence_end

SILENCE_FOR = dt.timedelta(hours=24)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["subject", "kind", "status", "occurrences", "notified", "first_seen_at", "last_seen_at"]
    list_filter = ["status", "kind", "notified", "first_seen_at"]
    search_fields = ["subject", "incident_key", "body"]
    readonly_fields = [
        "kind",
        "incident_key",
        "subject",
        "body",
        "status",
        "occurrences",
        "notified",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
        "resolved_by",
        "resolution",
    ]
    actions = ["resolve", "silence_kind"]

    def has_resolve_permission(self, request):
        return request.user.has_perm("payments.resolve_alert")

    def has_silence_permission(self, request):
        return request.user.has_perm("payments.silence_alert")

    @admin.action(description="Resolve (the same condition found again opens a new incident)", permissions=["resolve"])
    def resolve(self, request, queryset):
        resolved = 0
        for alert in queryset.filter(status=Alert.Status.OPEN):
            if alert_resolve(incident_key=alert.incident_key, staff=request.user):
                resolved += 1
                self.log_change(request, alert, "Resolved")
        self.message_user(request, f"Resolved: {resolved}.", messages.SUCCESS)

    @admin.action(description="Silence these kinds of alert for 24 hours", permissions=["silence"])
    def silence_kind(self, request, queryset):
        until = timezone.now() + SILENCE_FOR
        for kind in sorted(set(queryset.values_list("kind", flat=True))):
            silence = alert_silence(kind=kind, until=until, reason="Silenced from the alert list.", staff=request.user)
            self.message_user(request, f"{silence}.", messages.SUCCESS)


@admin.register(AlertSilence)
class AlertSilenceAdmin(ReadOnlyAdmin):
    """Silences are started from the alert list (its action) and ended here before their time."""

    list_display = ["kind", "until", "reason", "created_by", "created_at"]
    list_filter = ["kind"]
    actions = ["end_now"]

    def has_silence_permission(self, request):
        return request.user.has_perm("payments.silence_alert")

    @admin.action(description="End these silences now", permissions=["silence"])
    def end_now(self, request, queryset):
        ended = alert_silence_end(silences=queryset)
        self.message_user(request, f"Ended: {ended}.", messages.SUCCESS)
