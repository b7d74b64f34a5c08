"""What each money event tells the people it concerns, through their inbox (and e-mail as they choose).

Called by the services of payments, refunds and payouts inside the transaction of their event.
"""

from __future__ import annotations

from django.db.models import Sum
from django.urls import reverse

from knowpay.money import format_cny
from payments.models import LedgerEntry, LedgerLine, Order, Payment, Payout, Refund
from payments.services.inbox import inbox_notify


def _creator_share_fen(entry: LedgerEntry) -> int:
    """What an entry moved on the creator's accounts (credits positive): their share of a sale, or,
    negated, what a refund took from them."""
    total = LedgerLine.objects.filter(entry=entry, account__creator_id=entry.creator_id).aggregate(t=Sum("amount_fen"))
    return -(total["t"] or 0)


def notice_order_paid(*, order: Order, sale: LedgerEntry) -> None:
    """The learner has what they paid for; the creator made a sale."""
    title = order.course.title
    inbox_notify(
        user=order.learner,
        kind="order_paid",
        key=f"order_paid:{order.order_no}",
        title=f"You now have “{title}”",
        body=f"Your payment of {format_cny(order.amount_fen)} for order {order.order_no} was received.",
        url=reverse("payments:order_detail", args=[order.order_no]),
        email_topic="order_paid",
        email_context={"order_no": order.order_no, "course": title, "amount_fen": order.amount_fen},
    )
    share = _creator_share_fen(sale)
    inbox_notify(
        user=order.course.creator,
        kind="sale_made",
        key=f"sale_made:{order.order_no}",
        title=f"New sale: “{title}”",
        body=(
            f"{order.learner.get_username()} paid {format_cny(order.amount_fen)} for “{title}” "
            f"(order {order.order_no}). Your share is {format_cny(share)}."
        ),
        url=reverse("payments:earnings"),
    )


def notice_duplicate_payment(*, order: Order, payment: Payment) -> None:
    inbox_notify(
        user=order.learner,
        kind="refund_decided",
        key=f"duplicate_payment:{payment.out_trade_no}",
        title="You paid twice; we are refunding the second payment",
        body=(
            f"We received a second payment of {format_cny(payment.amount_fen)} for order {order.order_no} "
            "and are refunding it in full."
        ),
        url=reverse("payments:order_detail", args=[order.order_no]),
        email_topic="duplicate_payment",
        email_context={"order_no": order.order_no, "course": order.course.title, "amount_fen": payment.amount_fen},
    )


def notice_refund_succeeded(*, order: Order, refund: Refund, entry: LedgerEntry) -> None:
    """The learner has their money back; the creator's sale was (partly) refunded."""
    title = order.course.title
    inbox_notify(
        user=order.learner,
        kind="refund_decided",
        key=f"refund_succeeded:{refund.refund_no}",
        title=f"Refunded {format_cny(refund.amount_fen)} for “{title}”",
        body=f"We refunded {format_cny(refund.amount_fen)} for order {order.order_no}; it goes back the way you paid.",
        url=reverse("payments:order_detail", args=[order.order_no]),
        email_topic="refund_succeeded",
        email_context={"order_no": order.order_no, "course": title, "amount_fen": refund.amount_fen},
    )
    if refund.kind == Refund.Kind.DUPLICATE:
        return  # the creator never had this money
    taken = -_creator_share_fen(entry)
    inbox_notify(
        user=order.course.creator,
        kind="sale_refunded",
        key=f"sale_refunded:{refund.refund_no}",
        title=f"A sale of “{title}” was refunded",
        body=(
            f"Order {order.order_no}: {format_cny(refund.amount_fen)} went back to the learner, "
            f"{format_cny(taken)} of it from your share."
        ),
        url=reverse("payments:earnings"),
    )


def notice_refund_rejected(*, refund: Refund, note: str) -> None:
    order = refund.order
    reason = f" Reason: {note}" if note else ""
    inbox_notify(
        user=order.learner,
        kind="refund_decided",
        key=f"refund_rejected:{refund.refund_no}",
        title=f"Your refund request for “{order.course.title}” was declined",
        body=f"Your refund request for order {order.order_no} was declined.{reason}",
        url=reverse("payments:order_detail", args=[order.order_no]),
        email_topic="refund_rejected",
        email_context={"order_no": order.order_no, "course": order.course.title, "note": note},
    )


def notice_payout(*, payout: Payout) -> None:
    """Tell the creator where their payout is now: approved (transferring), sent, failed or declined."""
    amount = format_cny(payout.amount_fen)
    Status = Payout.Status
    if payout.status == Status.SENDING:
        kind, title = "payout_approved", f"Payout {payout.payout_no} of {amount} approved"
        body = f"It is being transferred to your Alipay account {payout.payee_account}."
    elif payout.status == Status.PAID:
        how = "by bank transfer" if payout.method == Payout.Method.BANK_TRANSFER else "to your Alipay account"
        kind, title = "payout_sent", f"Payout {payout.payout_no} of {amount} sent"
        body = f"We paid {amount} {how}; reference {payout.transfer_no or payout.bank_reference}."
    elif payout.status == Status.FAILED:
        kind, title = "payout_failed", f"Payout {payout.payout_no} of {amount} failed"
        body = f"The transfer failed ({payout.failure_reason}). The amount is available again."
    elif payout.status == Status.REJECTED:
        reason = f" Reason: {payout.decision_note}." if payout.decision_note else ""
        kind, title = "payout_failed", f"Payout {payout.payout_no} of {amount} declined"
        body = f"Staff declined this payout.{reason} The amount is available again."
    else:
        return
    inbox_notify(
        user=payout.creator,
        kind=kind,
        key=f"{kind}:{payout.payout_no}:{payout.status}",
        title=title,
        body=body,
        url=reverse("payments:earnings_payout", args=[payout.payout_no]),
    )
