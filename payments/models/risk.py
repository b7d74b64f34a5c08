"""Risk control (风险控制): what staff block, and every decision a rule took (payments.services.risk)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from knowpay.crypto import EncryptedCharField


class BlockedSubject(models.Model):
    """An account, address or payer that may not order, pay, ask for refunds or be paid out.

    The value is encrypted (a payer reference is payment data); `value_digest`, a keyed digest of
    the normalised value, is what rules look up.
    """

    class Kind(models.TextChoices):
        USER = "user", "Account (username)"
        IP = "ip", "IP address"
        PAYER = "payer", "Payer reference (Alipay buyer id, WeChat openid)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = EncryptedCharField(max_length=128)
    value_digest = models.CharField(max_length=64, editable=False)
    reason = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["user", "ip", "payer"]), name="blocked_subject_kind_valid"),
            models.UniqueConstraint(fields=["kind", "value_digest"], name="blocked_subject_unique_value"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (blocked)"


class RiskDecision(models.Model):
    """One decision of one rule about one subject, with its reason; rules record what they stopped."""

    class Rule(models.TextChoices):
        BLOCKLIST = "blocklist", "Blocklist"
        PAYOUT_ACCOUNT_CHANGED = "payout_account_changed", "Payout account changed recently"
        ORDER_VELOCITY = "order_velocity", "Too many orders"
        REFUND_VELOCITY = "refund_velocity", "Too many refund requests"

    class Decision(models.TextChoices):
        REFUSE = "refuse", "Refused"
        REVIEW = "review", "Held for review"

    rule = models.CharField(max_length=30, choices=Rule.choices)
    # What the rule looked at: "user:<id>", "ip:<address>", "payer:<masked>".
    subject = models.CharField(max_length=100)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.CharField(max_length=300)
    action = models.CharField(max_length=30, help_text="What was being done: order, payment, refund, payout…")
    order = models.ForeignKey("payments.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refund = models.ForeignKey("payments.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payout = models.ForeignKey("payments.Payout", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(decision__in=["refuse", "review"]), name="risk_decision_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.get_decision_display()} ({self.subject})"
