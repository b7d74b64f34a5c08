"""What people are told on the site (their inbox), and whether they also want each kind by e-mail.

Kinds are not a database choice list: payments/services/inbox.py holds them (who is offered each
kind, whether it is e-mailed by default), so a new kind is one line there and no migration.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class InboxItem(models.Model):
    """One note to one person, written in the transaction of the event it reports."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items")
    kind = models.CharField(max_length=40)
    # The event, once per person: "order_paid:KP…", "alert:12"; a second note for it is not written.
    key = models.CharField(max_length=120)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # Where the note leads on this site (a path), e.g. the order or the payout.
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="inbox_item_once_per_event")]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="inbox_user_created_idx"),
            # The header's unread count on every page: only unread rows.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="inbox_user_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class NotificationPreference(models.Model):
    """A person's choice for one kind of note; without a row the kind's default applies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=40)
    email = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {'e-mail' if self.email else 'inbox only'}"
