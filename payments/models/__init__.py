"""Payments data. Models hold data and invariants (as database constraints); logic lives in services."""

from payments.models.idempotency import IdempotencyKey
from payments.models.ledger import AppendOnlyError, LedgerAccount, LedgerEntry, LedgerLine
from payments.models.notifications import GatewayNotification, OutboxMessage
from payments.models.orders import Order, Payment, Refund
from payments.models.payouts import Payout, PayoutAllocation
from payments.models.reconciliation import ReconciliationItem, ReconciliationRun
from payments.models.risk import BlockedSubject, RiskDecision
from payments.models.simulator import SimulatedNotification, SimulatedRefund, SimulatedTrade, SimulatedTransfer

__all__ = [
    "AppendOnlyError",
    "BlockedSubject",
    "GatewayNotification",
    "IdempotencyKey",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerLine",
    "Order",
    "OutboxMessage",
    "Payment",
    "Payout",
    "PayoutAllocation",
    "ReconciliationItem",
    "ReconciliationRun",
    "Refund",
    "RiskDecision",
    "SimulatedNotification",
    "SimulatedRefund",
    "SimulatedTrade",
    "SimulatedTransfer",
]
