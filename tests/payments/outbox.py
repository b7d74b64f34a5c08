"""Outbox messages for tests, as services write them."""

from django.utils import timezone

from payments.models import OutboxMessage


def outbox_message(name: str, *, topic: str = "order_paid", **fields) -> OutboxMessage:
    """An unsent message due now; `topic` names its template under payments/email/."""
    return OutboxMessage.objects.create(
        topic=topic,
        dedupe_key=f"{topic}:{name}",
        payload={
            "to": f"{name}@example.com",
            "subject": f"About {name}",
            "context": {"order_no": f"KP-{name}", "course": "Course", "amount_fen": 1290},
        },
        next_attempt_at=fields.pop("next_attempt_at", timezone.now()),
        **fields,
    )
