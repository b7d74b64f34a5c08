from django.db import models
from django.db.models import Q


class GatewayCall(models.Model):
    """One call we made to a gateway: what it was about, how it ended, what the gateway said, how long.

    Written by the contract boundary (payments.gateways.boundary) for every outbound operation, in
    a transaction of its own, so a business transaction that rolls back never takes the record with
    it. Only our identifiers, the gateway's codes and a one-line summary are kept: never keys,
    signatures, request bodies or signed URLs. Linked to payments and refunds by their numbers, not
    by foreign keys, because it is written outside the transaction that may be creating them.
    """

    class Operation(models.TextChoices):
        START_PAYMENT = "start_payment", "Start a payment"
        QUERY_PAYMENT = "query_payment", "Query a payment"
        CLOSE_PAYMENT = "close_payment", "Close a payment"
        COMPLETE_PAYMENT = "complete_payment", "Complete a payment the buyer approved (e.g. PayPal capture)"
        REFUND = "refund", "Send a refund"
        QUERY_REFUND = "query_refund", "Query a refund"
        FETCH_STATEMENT = "fetch_statement", "Download the daily bill"
        TRANSFER = "transfer", "Transfer a payout"

    class Outcome(models.TextChoices):
        OK = "ok", "Answered"
        REJECTED = "rejected", "Refused by the gateway"
        UNAVAILABLE = "unavailable", "No answer (network, timeout, HTTP error)"
        INVALID = "invalid", "Answer we could not trust"
        CONFIGURATION = "configuration", "Our configuration is wrong"
        NOT_SUPPORTED = "not_supported", "Not offered by this gateway"
        CONTRACT_VIOLATION = "contract_violation", "Unexpected error in the gateway module"
        CIRCUIT_OPEN = "circuit_open", "Not called: circuit open after repeated failures"
        ERROR = "error", "Other gateway error"

    channel = models.CharField(max_length=20)
    operation = models.CharField(max_length=20, choices=Operation.choices)
    out_trade_no = models.CharField(max_length=64, blank=True, db_index=True)
    out_refund_no = models.CharField(max_length=64, blank=True, db_index=True)
    payout_no = models.CharField(max_length=64, blank=True, db_index=True)
    bill_day = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    code = models.CharField(max_length=64, blank=True)  # the gateway's or our error code
    result = models.CharField(max_length=200, blank=True)  # what the gateway said, in one line
    error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    operation__in=[
                        "start_payment",
                        "query_payment",
                        "close_payment",
                        "complete_payment",
                        "refund",
                        "query_refund",
                        "fetch_statement",
                        "transfer",
                    ]
                ),
                name="gateway_call_operation_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    outcome__in=[
                        "ok",
                        "rejected",
                        "unavailable",
                        "invalid",
                        "configuration",
                        "not_supported",
                        "contract_violation",
                        "circuit_open",
                        "error",
                    ]
                ),
                name="gateway_call_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        reference = self.out_refund_no or self.out_trade_no or self.payout_no or self.bill_day or ""
        return f"{self.channel} {self.operation} {reference} ({self.outcome})"
