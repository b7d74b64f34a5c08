"""E-mail for apps below payments: one hook into the outbox (payments.services.outbox).

Imports flow accounts ← courses ← payments, so accounts cannot import the outbox. Payments
registers its `outbox_enqueue` here when the app loads; accounts queues its messages through
`mail_enqueue`, so every e-mail of the platform goes through the one outbox: written in the
caller's transaction, sent after commit, retried by the periodic sweep.
"""

from __future__ import annotations

from collections.abc import Callable

_enqueue: Callable[..., object] | None = None


def mail_sender_register(enqueue: Callable[..., object]) -> None:
    global _enqueue
    _enqueue = enqueue


def mail_enqueue(
    *, topic: str, key: str, to: str, subject: str, template: str, context: dict, secret: bool = False
) -> None:
    """Queue one e-mail per business event `key`, rendered later from `template` with `context` (JSON).

    `secret`: the context holds a link that acts for the recipient (reset, confirmation); the outbox
    forgets it once the message is sent.
    """
    if _enqueue is None:
        raise RuntimeError("No outbox is registered: the payments app must be installed.")
    _enqueue(topic=topic, key=key, to=to, subject=subject, context=context, template=template, secret=secret)
