"""Reads of a person's inbox and notification choices; always their own."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from payments.models import InboxItem, NotificationPreference
from payments.services.inbox import InboxKind, inbox_kinds_for


def inbox_unread_count(*, user: User) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).count()


def inbox_list_for_user(*, user: User) -> QuerySet[InboxItem]:
    return InboxItem.objects.filter(user=user).order_by("-created_at", "-id")


def inbox_item_get_for_user(*, user: User, item_id: int) -> InboxItem | None:
    return InboxItem.objects.filter(pk=item_id, user=user).first()


@dataclass(frozen=True)
class NotificationChoice:
    kind: str
    label: str
    email: bool


def notification_choices_for(*, user: User) -> list[NotificationChoice]:
    """Each kind `user` may receive, with whether they get it by e-mail (their choice or the default)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    kinds: dict[str, InboxKind] = inbox_kinds_for(user=user)
    return [
        NotificationChoice(kind=name, label=kind.label, email=chosen.get(name, kind.email_by_default))
        for name, kind in kinds.items()
    ]
