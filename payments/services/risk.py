"""Risk rules (风险控制): few, explicit, all here. Limits are in settings (RISK_*).

- blocklist: an account, address or payer reference staff blocked cannot order, pay, ask for a
  refund or be paid out (refused); a payment by a blocked payer still completes (the money has
  moved) but its order is held for review.
- payout account changed: for RISK_PAYOUT_ACCOUNT_COOLDOWN_HOURS after a creator changed their
  payout account or name, payouts are held: requests are refused with the time they are possible
  again, and staff cannot approve a transfer either (a stolen session cannot redirect money at
  once; the creator was e-mailed about the change).
- order velocity: an order beyond RISK_ORDERS_PER_LEARNER_PER_HOUR (or RISK_ORDERS_PER_IP_PER_HOUR
  from one address) is created held for review: it cannot be paid until staff release it.
- refund velocity: a refund request beyond RISK_REFUNDS_PER_LEARNER_PER_DAY (or _PER_IP_) is
  flagged for review (learner refunds always wait for staff; the flag tells them why to look).

Every decision that stops or holds something is recorded as a RiskDecision with its reason;
requests that pass are not recorded.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CreatorProfile, User
from knowpay.api import ServiceError
from knowpay.crypto import field_digest, field_digests, mask
from payments.models import BlockedSubject, Order, Payout, Refund, RiskDecision


class RiskRefused(ServiceError):
    """A risk rule refused the request; the message is fit to show the user."""

    code = "risk_refused"


def _normalise(kind: str, value: str) -> str:
    value = value.strip()
    return value.lower() if kind == BlockedSubject.Kind.USER else value


def blocked_subject_add(*, kind: str, value: str, reason: str, staff: User | None) -> BlockedSubject:
    """Block an account (username), an address or a payer reference. Raises ServiceError if already blocked."""
    value = _normalise(kind, value)
    if not value:
        raise ServiceError("Enter what to block.", code="empty")
    try:
        with transaction.atomic():
            return BlockedSubject.objects.create(
                kind=kind, value=value, value_digest=field_digest(value), reason=reason, created_by=staff
            )
    except IntegrityError:
        raise ServiceError("This is blocked already.", code="already_blocked") from None


def _is_blocked(kind: str, value: str | None) -> bool:
    if not value:
        return False
    digests = field_digests(_normalise(kind, value))
    return BlockedSubject.objects.filter(kind=kind, value_digest__in=digests, is_active=True).exists()


def _record(*, rule: str, subject: str, decision: str, reason: str, action: str, **links) -> RiskDecision:
    return RiskDecision.objects.create(
        rule=rule, subject=subject[:100], decision=decision, reason=reason[:300], action=action, **links
    )


def _refuse(*, rule: str, subject: str, reason: str, action: str, message: str, **links) -> None:
    # Callers check before they open their own transaction, so the record outlives the refusal.
    _record(rule=rule, subject=subject, decision=RiskDecision.Decision.REFUSE, reason=reason, action=action, **links)
    raise RiskRefused(message)


def risk_blocklist_check(*, action: str, user: User | None = None, ip: str | None = None) -> None:
    """Refuse (RiskRefused) when the account or the address is blocked."""
    if user is not None and _is_blocked(BlockedSubject.Kind.USER, user.username):
        _refuse(
            rule=RiskDecision.Rule.BLOCKLIST,
            subject=f"user:{user.pk}",
            reason="the account is blocked",
            action=action,
            message="We cannot accept this request from your account. Please contact support.",
        )
    if _is_blocked(BlockedSubject.Kind.IP, ip):
        _refuse(
            rule=RiskDecision.Rule.BLOCKLIST,
            subject=f"ip:{ip}",
            reason="the address is blocked",
            action=action,
            message="We cannot accept this request from your network. Please contact support.",
        )


def risk_payer_check(*, order: Order, payer_ref: str) -> bool:
    """After a payment by `payer_ref` was applied: hold the order for review if that payer is blocked."""
    if not _is_blocked(BlockedSubject.Kind.PAYER, payer_ref):
        return False
    Order.objects.filter(pk=order.pk).update(held_for_review=True)
    _record(
        rule=RiskDecision.Rule.BLOCKLIST,
        subject=f"payer:{mask(payer_ref)}",
        decision=RiskDecision.Decision.REVIEW,
        reason="paid by a blocked payer",
        action="payment",
        order=order,
    )
    return True


def risk_payout_check(*, creator: User, action: str, payout: Payout | None = None) -> None:
    """Refuse a payout request or approval while the payout account is new, or the creator blocked."""
    risk_blocklist_check(action=action, user=creator)
    changed_at = CreatorProfile.objects.filter(user=creator).values_list("payout_changed_at", flat=True).first()
    if changed_at is None:
        return
    hold_until = changed_at + dt.timedelta(hours=settings.RISK_PAYOUT_ACCOUNT_COOLDOWN_HOURS)
    if timezone.now() < hold_until:
        _refuse(
            rule=RiskDecision.Rule.PAYOUT_ACCOUNT_CHANGED,
            subject=f"user:{creator.pk}",
            reason=f"payout account changed at {timezone.localtime(changed_at):%Y-%m-%d %H:%M}",
            action=action,
            message=(
                "The payout account was changed recently; for safety, payouts are possible again from "
                f"{timezone.localtime(hold_until):%Y-%m-%d %H:%M}."
            ),
            payout=payout,
        )


def risk_order_hold_reason(*, learner: User, ip: str | None) -> str:
    """Why a new order should be held for review ("" if it should not)."""
    since = timezone.now() - dt.timedelta(hours=1)
    if (
        Order.objects.filter(learner=learner, created_at__gte=since).count()
        >= settings.RISK_ORDERS_PER_LEARNER_PER_HOUR
    ):
        return f"more than {settings.RISK_ORDERS_PER_LEARNER_PER_HOUR} orders by this learner in an hour"
    if ip and Order.objects.filter(client_ip=ip, created_at__gte=since).count() >= settings.RISK_ORDERS_PER_IP_PER_HOUR:
        return f"more than {settings.RISK_ORDERS_PER_IP_PER_HOUR} orders from this address in an hour"
    return ""


def risk_order_held(*, order: Order, reason: str) -> None:
    _record(
        rule=RiskDecision.Rule.ORDER_VELOCITY,
        subject=f"user:{order.learner_id}" if "learner" in reason else f"ip:{order.client_ip}",
        decision=RiskDecision.Decision.REVIEW,
        reason=reason,
        action="order",
        order=order,
    )


def risk_refund_flag_reason(*, learner: User, ip: str | None) -> str:
    """Why a new refund request should be flagged for review ("" if it should not)."""
    since = timezone.now() - dt.timedelta(days=1)
    learner_limit, ip_limit = settings.RISK_REFUNDS_PER_LEARNER_PER_DAY, settings.RISK_REFUNDS_PER_IP_PER_DAY
    if Refund.objects.filter(requested_by=learner, created_at__gte=since).count() >= learner_limit:
        return f"more than {learner_limit} refund requests by this learner in a day"
    if ip and Refund.objects.filter(client_ip=ip, created_at__gte=since).count() >= ip_limit:
        return f"more than {ip_limit} refund requests from this address in a day"
    return ""


def risk_refund_flagged(*, refund: Refund, reason: str) -> None:
    _record(
        rule=RiskDecision.Rule.REFUND_VELOCITY,
        subject=f"user:{refund.requested_by_id}" if "learner" in reason else f"ip:{refund.client_ip}",
        decision=RiskDecision.Decision.REVIEW,
        reason=reason,
        action="refund",
        refund=refund,
        order_id=refund.order_id,
    )


@transaction.atomic
def order_review_release(*, order: Order, staff: User) -> Order:
    """Staff reviewed a held order: it can be paid now (if still pending and not expired)."""
    order = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
    if not order.held_for_review:
        raise ServiceError("This order is not held for review.", code="not_held")
    order.held_for_review = False
    order.save(update_fields=["held_for_review", "updated_at"])
    return order
