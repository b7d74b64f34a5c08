"""What the local gateway simulators remember, as a real gateway keeps its own books.

Only the simulators (payments/simulators/) read or write these; our payment code never does,
it asks the simulator over HTTP like any gateway.
"""

from django.db import models


class SimulatedTrade(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for the buyer"
        PAID = "paid", "Paid"
        CLOSED = "closed", "Closed"

    gateway = models.CharField(max_length=20)
    merchant_id = models.CharField(max_length=64)
    out_trade_no = models.CharField(max_length=64)
    trade_no = models.CharField(max_length=64, unique=True)
    amount_fen = models.PositiveIntegerField()
    refunded_fen = models.PositiveIntegerField(default=0)
    subject = models.CharField(max_length=256, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    notify_url = models.CharField(max_length=500, blank=True)
    return_url = models.CharField(max_length=500, blank=True)
    buyer_id = models.CharField(max_length=64, blank=True)
    # Protocol details a dialect needs to remember (trade type, product id, QR content...).
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "merchant_id", "out_trade_no"], name="simulated_trade_unique_out_trade_no"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.out_trade_no}"


class SimulatedRefund(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"

    trade = models.ForeignKey(SimulatedTrade, on_delete=models.CASCADE, related_name="refunds")
    out_refund_no = models.CharField(max_length=64)
    refund_no = models.CharField(max_length=64, unique=True)
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUCCEEDED)
    notify_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trade", "out_refund_no"], name="simulated_refund_unique_out_refund_no"),
        ]

    def __str__(self) -> str:
        return self.refund_no


class SimulatedTransfer(models.Model):
    gateway = models.CharField(max_length=20)
    merchant_id = models.CharField(max_length=64)
    out_biz_no = models.CharField(max_length=64)
    transfer_no = models.CharField(max_length=64, unique=True)
    amount_fen = models.PositiveIntegerField()
    payee_account = models.CharField(max_length=100)
    payee_name = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "merchant_id", "out_biz_no"], name="simulated_transfer_unique_out_biz_no"
            ),
        ]

    def __str__(self) -> str:
        return self.transfer_no


class SimulatedNotification(models.Model):
    """A notification a simulator owes the merchant, retried on its gateway's schedule until acknowledged."""

    gateway = models.CharField(max_length=20)
    url = models.CharField(max_length=500)
    body = models.TextField()
    content_type = models.CharField(max_length=100)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.IntegerField(null=True, blank=True)
    last_response = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.gateway} → {self.url} ({self.attempts} attempts)"


class SimulatedIdempotentRequest(models.Model):
    """A create request a simulator answered once under an idempotency key (Stripe's Idempotency-Key,
    PayPal's PayPal-Request-Id): the same key gets the same answer, another request under it an error."""

    gateway = models.CharField(max_length=20)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "key"], name="simulated_idempotent_request_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.key}"


class SimulatedAuthCode(models.Model):
    """A code the local WeChat's web authorisation handed out: good once, for five minutes."""

    gateway = models.CharField(max_length=20)
    code = models.CharField(max_length=64, unique=True)
    app_id = models.CharField(max_length=64)
    openid = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.gateway}:{self.code}"
