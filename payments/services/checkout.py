"""Starting a payment: one attempt per order and channel, created under the order's lock."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from courses.selectors import course_is_enrolled
from knowpay.api import ServiceError
from knowpay.metrics import PAYMENTS_STARTED
from payments.gateways import UnknownChannel, gateway_get
from payments.gateways.base import GatewayError, PaymentRequest, PaymentStart, StartKind
from payments.models import Order, Payment
from payments.selectors.payers import payer_openid_for
from payments.services import risk
from payments.services.numbers import out_trade_no_for
from payments.services.orders import order_expire, payments_close_at_gateway_later

logger = logging.getLogger(__name__)


# Time for a request to reach a gateway and for its clock to differ from ours, on top of the
# shortest trade it accepts: a trade asked for "exactly 5 minutes" arrives with less.
EXPIRY_MARGIN = dt.timedelta(minutes=1)
# Starts that cost the gateway a trade creation, kept with the attempt and shown again on a repeated click.
REUSED_STARTS = (StartKind.QR, StartKind.BRIDGE)


class CheckoutError(ServiceError):
    pass


class PayerAuthorizationRequired(CheckoutError):
    """The method needs the payer's openid, and this learner has none yet: authorise first."""


def notify_url(channel: str, kind: str = "payment") -> str:
    name = "payments:notify" if kind == "payment" else "payments:notify_refund"
    return settings.SITE_URL + reverse(name, kwargs={"channel": channel})


def payment_start(*, order: Order, channel: str, method: str, client_ip: str) -> tuple[Payment, PaymentStart]:
    """Start (or resume) paying `order` through `channel`/`method`; returns what the browser needs.

    Repeated clicks get the same attempt (and, for a QR code, the same code) back. Choosing another
    channel opens a new attempt and closes the previous ones at their gateways. A gateway that needs
    a trade open for longer than the order has left (WeChat Pay: 5 minutes) gets it: the order's
    expiry moves to that minimum from now, so the learner pays a trade the gateway accepted and
    the order does not close under it.

    Raises:
        CheckoutError: unknown channel or method; the order is not pending or has expired.
        GatewayError: the gateway refused or did not answer (the attempt stays, to be retried).
    """
    try:
        gateway = gateway_get(channel)
    except UnknownChannel:
        raise CheckoutError("This payment method is not available.", code="unknown_channel") from None
    payment_method = gateway.method(method)
    if payment_method is None:
        raise CheckoutError("This payment method is not available.", code="unknown_method")
    risk.risk_blocklist_check(action="payment", user=order.learner, ip=client_ip)
    payer_openid = ""
    if payment_method.needs_payer_openid:
        payer_openid = payer_openid_for(learner=order.learner, channel=channel, app_id=gateway.payer_app_id)
        if not payer_openid:
            raise PayerAuthorizationRequired(
                "WeChat needs to confirm who you are before you can pay.", code="payer_authorization_required"
            )
    if order.status == Order.Status.PENDING and order.expires_at <= timezone.now():
        order_expire(order_id=order.pk)
        raise CheckoutError("This order has expired. Please buy the course again.", code="order_expired")

    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True, of=("self",)).select_related("course").get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            raise CheckoutError(
                f"This order is {order.get_status_display().lower()}; it cannot be paid.", code="order_not_pending"
            )
        if order.held_for_review:
            raise CheckoutError(
                "This order is being reviewed by our team; you can pay it once it is released.",
                code="held_for_review",
            )
        if course_is_enrolled(learner=order.learner, course=order.course):
            raise CheckoutError("You already have this course.", code="already_enrolled")
        attempt = order.payments.filter(status=Payment.Status.CREATED, channel=channel, method=method).first()
        if attempt is None:
            attempt = Payment.objects.create(
                order=order,
                channel=channel,
                method=method,
                out_trade_no=out_trade_no_for(order.order_no, order.payments.count() + 1),
                amount_fen=order.amount_fen,
            )
        payments_close_at_gateway_later(order=order, keep=attempt)
        shortest_expiry = timezone.now() + gateway.min_payment_window + EXPIRY_MARGIN
        if attempt.start_data.get("kind") not in REUSED_STARTS and order.expires_at < shortest_expiry:
            # A trade is about to be opened at the gateway (a QR code or a prepay_id, once, is reused after).
            order.expires_at = shortest_expiry
            order.save(update_fields=["expires_at", "updated_at"])

    if attempt.start_data.get("kind") in REUSED_STARTS:
        # A QR code or a prepay_id costs the gateway a trade creation; redirects and forms are
        # re-signed on every click, so a learner coming back later never gets a stale signed
        # timestamp (or an mweb_url past its five minutes).
        return attempt, PaymentStart.from_dict(attempt.start_data)
    request = PaymentRequest(
        out_trade_no=attempt.out_trade_no,
        amount_fen=attempt.amount_fen,
        subject=order.course.title[:120],
        method=method,
        notify_url=notify_url(channel),
        return_url=settings.SITE_URL + reverse("payments:order_return", kwargs={"order_no": order.order_no}),
        expires_at=order.expires_at,
        client_ip=client_ip,
        product_id=str(order.course_id),
        currency=order.currency,
        gateway_ref=attempt.gateway_ref,
        quit_url=settings.SITE_URL + reverse("payments:order_detail", kwargs={"order_no": order.order_no}),
        payer_openid=payer_openid,
    )
    try:
        start = gateway.start_payment(request)
    except GatewayError:
        logger.warning("payment start failed", extra={"out_trade_no": attempt.out_trade_no}, exc_info=True)
        raise
    Payment.objects.filter(pk=attempt.pk).update(start_data=start.as_dict())
    PAYMENTS_STARTED.labels(channel=channel).inc()
    return attempt, start
