from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from courses.models import Course
from knowpay.crypto import EncryptedCharField


class Order(models.Model):
    """A learner's intent to buy one course at the price of the moment it was created."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        CLOSED = "closed", "Closed"

    class CloseReason(models.TextChoices):
        CANCELLED = "cancelled", "Cancelled by the learner"
        EXPIRED = "expired", "Not paid in time"

    # The learner's one purchase of the course: at most one such order per learner and course.
    # A fully refunded order is no longer one, so the learner may buy the course again.
    PURCHASED = (Status.PAID, Status.PARTIALLY_REFUNDED)

    order_no = models.CharField(max_length=32, unique=True)
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="orders")
    amount_fen = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="CNY", editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    refunded_fen = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=10, choices=CloseReason.choices, blank=True)
    # The money arrived after we had closed the order; we fulfilled it anyway.
    paid_after_close = models.BooleanField(default=False)
    # A risk rule held it (payments.services.risk): it cannot be paid until staff release it.
    held_for_review = models.BooleanField(default=False)
    # Where it was ordered from (risk rules count orders per address).
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="order_status_expiry_idx"),
            models.Index(fields=["client_ip", "created_at"], name="order_client_ip_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="order_amount_positive"),
            models.CheckConstraint(condition=Q(currency="CNY"), name="order_currency_cny"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "paid", "partially_refunded", "refunded", "closed"]),
                name="order_status_valid",
            ),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("amount_fen")), name="order_refund_le_amount"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "closed"]) | Q(paid_at__isnull=False),
                name="order_paid_has_paid_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="refunded") | Q(refunded_fen=F("amount_fen")),
                name="order_refunded_is_full",
            ),
            models.CheckConstraint(
                condition=~Q(status="partially_refunded") | Q(refunded_fen__gt=0, refunded_fen__lt=F("amount_fen")),
                name="order_partially_refunded_is_partial",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False), name="order_closed_has_closed_at"
            ),
            # Buying twice reuses the pending order, even when two clicks race.
            models.UniqueConstraint(
                fields=["learner", "course"], condition=Q(status="pending"), name="order_one_pending_per_course"
            ),
            # One sale per purchase: a second payment for a course the learner owns is a duplicate,
            # refunded, even if a code path forgets payments.locks.purchase_lock.
            models.UniqueConstraint(
                fields=["learner", "course"],
                condition=Q(status__in=["paid", "partially_refunded"]),
                name="order_one_purchase_per_course",
            ),
        ]

    def __str__(self) -> str:
        return self.order_no

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen


class Payment(models.Model):
    """One attempt to pay an order at one gateway; `out_trade_no` is the number the gateway sees."""

    class Status(models.TextChoices):
        CREATED = "created", "Waiting for the payer"
        SUCCEEDED = "succeeded", "Succeeded"
        CLOSED = "closed", "Closed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    channel = models.CharField(max_length=20)
    method = models.CharField(max_length=20)
    out_trade_no = models.CharField(max_length=32, unique=True)
    gateway_trade_no = models.CharField(max_length=64, blank=True)
    amount_fen = models.PositiveIntegerField()
    refunded_fen = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    # What the browser needs to pay (redirect URL, form, QR content), reused on a repeated click.
    start_data = models.JSONField(default=dict, blank=True)
    # It succeeded while the order was already paid by another attempt; it is refunded automatically.
    is_duplicate = models.BooleanField(default=False)
    # Who paid, as the gateway names them (Alipay buyer id, WeChat openid): encrypted at rest.
    payer_ref = EncryptedCharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Staff powers beyond viewing, each granted on its own (the Finance and Support groups).
        permissions = [("sync_payment", "Can ask the gateway about a payment and apply its answer")]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["created", "succeeded", "closed"]), name="payment_status_valid"
            ),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("amount_fen")), name="payment_refund_le_amount"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(succeeded_at__isnull=False),
                name="payment_succeeded_has_time",
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen=0) | Q(status="succeeded"), name="payment_refunds_only_if_succeeded"
            ),
            models.CheckConstraint(
                condition=Q(is_duplicate=False) | Q(status="succeeded"), name="payment_duplicate_is_succeeded"
            ),
            # An order is paid by exactly one payment; any other success is a duplicate to refund.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="succeeded", is_duplicate=False),
                name="payment_one_primary_success_per_order",
            ),
        ]

    def __str__(self) -> str:
        return self.out_trade_no

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen

    @property
    def gateway_ref(self) -> str:
        """The gateway's own reference for this trade, kept from its start (PaymentStart.gateway_ref)."""
        return self.start_data.get("gateway_ref", "") if isinstance(self.start_data, dict) else ""


class Refund(models.Model):
    """Money going back to the payer of one payment; `refund_no` is the number the gateway sees."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested, awaiting review"
        PROCESSING = "processing", "Sent to the gateway"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed at the gateway"
        REJECTED = "rejected", "Rejected"

    class Kind(models.TextChoices):
        LEARNER = "learner", "Requested by the learner"
        STAFF = "staff", "Issued by staff"
        DUPLICATE = "duplicate", "Duplicate payment"

    IN_FLIGHT = (Status.REQUESTED, Status.PROCESSING)

    refund_no = models.CharField(max_length=40, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    gateway_refund_no = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    # A risk rule flagged the request (payments.services.risk); staff see why before deciding.
    risk_flagged = models.BooleanField(default=False)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    # Every status change, with who made it (admin history).
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("issue_refund", "Can refund a paid order"),
            ("decide_refund", "Can approve or reject refund requests and send refunds again"),
        ]
        indexes = [models.Index(fields=["client_ip", "created_at"], name="refund_client_ip_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "processing", "succeeded", "failed", "rejected"]),
                name="refund_status_valid",
            ),
            models.CheckConstraint(condition=Q(kind__in=["learner", "staff", "duplicate"]), name="refund_kind_valid"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(succeeded_at__isnull=False),
                name="refund_succeeded_has_time",
            ),
            # A second refund cannot start while one is in flight for the same payment.
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(status__in=["requested", "processing"]),
                name="refund_one_in_flight_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return self.refund_no
