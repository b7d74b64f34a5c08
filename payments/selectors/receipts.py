"""Receipts: what a paid order's receipt says, read once for the page and the PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import Http404

from accounts.models import User
from payments.gateways import UnknownChannel, channel_display_name, gateway_get
from payments.models import Order, Payment, Refund


@dataclass(frozen=True)
class ReceiptLine:
    """One line of what was charged; their amounts add up to the order's amount."""

    label: str
    amount_fen: int


@dataclass(frozen=True)
class ReceiptRefund:
    refund_no: str
    amount_fen: int
    refunded_at: dt.datetime


@dataclass(frozen=True)
class Receipt:
    order_no: str
    buyer: str
    seller: str
    product: str
    paid_at: dt.datetime
    lines: tuple[ReceiptLine, ...]
    total_fen: int
    refunds: tuple[ReceiptRefund, ...]
    refunded_fen: int
    net_fen: int
    gateway: str
    method: str
    gateway_trade_no: str
    out_trade_no: str


def _method_label(payment: Payment) -> str:
    try:
        method = gateway_get(payment.channel).method(payment.method)
    except UnknownChannel:
        method = None  # a channel no longer offered still names itself
    return method.label if method else payment.method


def receipt_get(*, order_no: str, user: User) -> Receipt:
    """The receipt of a paid order, for its buyer or staff who may view orders; otherwise a 404."""
    orders = Order.objects.select_related("course", "course__creator", "learner").filter(
        order_no=order_no, paid_at__isnull=False
    )
    if not user.has_perm("payments.view_order"):
        orders = orders.filter(learner=user)
    order = orders.first()
    payment = order and order.payments.filter(status=Payment.Status.SUCCEEDED, is_duplicate=False).first()
    if order is None or payment is None:
        raise Http404("No receipt for this order.")
    refunds = tuple(
        ReceiptRefund(refund_no=refund.refund_no, amount_fen=refund.amount_fen, refunded_at=refund.succeeded_at)
        for refund in payment.refunds.filter(status=Refund.Status.SUCCEEDED).order_by("succeeded_at", "pk")
    )
    refunded_fen = sum(refund.amount_fen for refund in refunds)
    creator = order.course.creator
    return Receipt(
        order_no=order.order_no,
        buyer=order.learner.get_username(),
        seller=getattr(getattr(creator, "creator_profile", None), "display_name", "") or creator.get_username(),
        product=order.course.title,
        paid_at=order.paid_at,
        # A discount (a coupon) will be one more line here.
        lines=(ReceiptLine(label=order.course.title, amount_fen=order.amount_fen),),
        total_fen=payment.amount_fen,
        refunds=refunds,
        refunded_fen=refunded_fen,
        net_fen=payment.amount_fen - refunded_fen,
        gateway=channel_display_name(payment.channel),
        method=_method_label(payment),
        gateway_trade_no=payment.gateway_trade_no,
        out_trade_no=payment.out_trade_no,
    )
