"""Telling people what happened: a note in their inbox on the site, and an e-mail if they want one.

`inbox_notify` is the one call for every kind of note. It runs inside the transaction of the event
it reports: the note is written with the event (and rolls back with it), and the e-mail goes into
the outbox in the same transaction, so it is sent after the commit or by the outbox sweep. Each
event is noted once per person (`key`), however often the event is handled.

A kind is a line in INBOX_KINDS: who may choose it on the settings page and whether it is e-mailed
unless the person said otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from payments.models import InboxItem, NotificationPreference
from payments.services.outbox import outbox_enqueue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxKind:
    label: str
    # Who is offered the kind on the settings page: "everyone", "creators" or "staff".
    audience: str
    email_by_default: bool = True


INBOX_KINDS: dict[str, InboxKind] = {
    # Learners
    "order_paid": InboxKind("An order of mine is paid", "everyone"),
    "refund_decided": InboxKind("A refund for me is decided (refunded or declined)", "everyone"),
    # Creators
    "sale_made": InboxKind("A learner bought from me", "creators"),
    "sale_refunded": InboxKind("A sale of mine was refunded", "creators"),
    "payout_approved": InboxKind("My payout was approved", "creators"),
    "payout_sent": InboxKind("My payout was sent", "creators"),
    "payout_failed": InboxKind("My payout failed or was declined", "creators"),
    # Staff
    "alert": InboxKind("Alerts about the payment system", "staff"),
}


class UnknownInboxKind(ValueError):
    """A note of a kind INBOX_KINDS does not list: a bug in the caller."""


def inbox_kinds_for(*, user: User) -> dict[str, InboxKind]:
    """The kinds `user` may receive, and so choose e-mail for."""
    audiences = {"everyone"}
    if user.is_creator:
        audiences.add("creators")
    if user.is_staff:
        audiences.add("staff")
    return {name: kind for name, kind in INBOX_KINDS.items() if kind.audience in audiences}


def inbox_email_wanted(*, user: User, kind: str) -> bool:
    chosen = NotificationPreference.objects.filter(user=user, kind=kind).values_list("email", flat=True).first()
    return INBOX_KINDS[kind].email_by_default if chosen is None else chosen


def inbox_notify(
    *,
    user: User,
    kind: str,
    key: str,
    title: str,
    body: str = "",
    url: str = "",
    email_topic: str = "inbox",
    email_context: dict | None = None,
) -> InboxItem | None:
    """Note an event for `user` (in their inbox), and e-mail it if they want this kind by e-mail.

    Call it inside the transaction that makes the event happen. `key` names the event for this
    person (it is noted once); the e-mail's outbox message has the same key, so telling several
    people of one event takes a key per person. `url` is a path on this site. The e-mail renders
    `payments/email/<email_topic>.txt` with `email_context` (by default the note: title, body, link).

    Returns the note, or None if this event was noted for this person before.
    Raises: UnknownInboxKind for a kind INBOX_KINDS does not list.
    """
    if kind not in INBOX_KINDS:
        raise UnknownInboxKind(f"unknown inbox kind {kind!r}")
    try:
        with transaction.atomic():
            item = InboxItem.objects.create(user=user, kind=kind, key=key, title=title[:200], body=body, url=url)
    except IntegrityError:
        return None  # this event was noted for them already
    if user.email and user.is_active and inbox_email_wanted(user=user, kind=kind):
        link = f"{settings.SITE_URL}{url}" if url else ""
        outbox_enqueue(
            topic=email_topic,
            key=key,
            to=user.email,
            subject=title,
            context=email_context if email_context is not None else {"title": title, "body": body, "link": link},
        )
    return item


def inbox_mark_read(*, user: User, item_id: int) -> bool:
    """Mark one of `user`'s own notes read; another person's note is never touched. True if it was unread."""
    return bool(InboxItem.objects.filter(pk=item_id, user=user, read_at__isnull=True).update(read_at=timezone.now()))


def inbox_mark_all_read(*, user: User) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def notification_preferences_set(*, user: User, email_by_kind: dict[str, bool]) -> None:
    """Record which kinds `user` wants by e-mail. Kinds they are not offered are ignored."""
    offered = inbox_kinds_for(user=user)
    with transaction.atomic():
        for kind, email in email_by_kind.items():
            if kind in offered:
                NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": bool(email)})
