"""Payments data. Models hold data and invariants (as database constraints); logic lives in services."""

from payments.models.alerts import Alert, AlertSilence
from payments.models.anomalies import PaymentAnomaly
from payments.models.gateway_calls import GatewayCall
from payments.models.idempotency import IdempotencyKey
from payments.models.inbox import InboxItem, NotificationPreference
from payments.models.ledger import AppendOnlyError, LedgerAccount, LedgerEntry, LedgerLine
from payments.models.notifications import GatewayNotification, OutboxMessage
from payments.models.orders import Order, Payment, Refund
from payments.models.payers import PayerOpenid
from payments.models.payouts import Payout, PayoutAllocation, PayoutSchedule
from payments.models.reconciliation import ReconciliationItem, ReconciliationRun
from payments.models.risk import BlockedSubject, RiskDecision
from payments.models.simulator import (
    SimulatedAuthCode,
    SimulatedIdempotentRequest,
    SimulatedNotification,
    SimulatedRefund,
    SimulatedTrade,
    SimulatedTransfer,
)
from payments.models.sweeps import SweepFailure

__all__ = [
    "Alert",
    "AlertSilence",
    "AppendOnlyError",
    "BlockedSubject",
    "GatewayCall",
    "GatewayNotification",
    "IdempotencyKey",
    "InboxItem",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerLine",
    "NotificationPreference",
    "Order",
    "OutboxMessage",
    "PayerOpenid",
    "Payment",
    "PaymentAnomaly",
    "Payout",
    "PayoutAllocation",
    "PayoutSchedule",
    "ReconciliationItem",
    "ReconciliationRun",
    "Refund",
    "RiskDecision",
    "SimulatedAuthCode",
    "SimulatedIdempotentRequest",
    "SimulatedNotification",
    "SimulatedRefund",
    "SimulatedTrade",
    "SimulatedTransfer",
    "SweepFailure",
]
