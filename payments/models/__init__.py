"""Payments data. Models hold data and invariants (as database constraints); logic lives in services."""

from payments.models.notifications import GatewayNotification, OutboxMessage
from payments.models.orders import Order, Payment, Refund
from payments.models.simulator import SimulatedNotification, SimulatedRefund, SimulatedTrade, SimulatedTransfer

__all__ = [
    "GatewayNotification",
    "Order",
    "OutboxMessage",
    "Payment",
    "Refund",
    "SimulatedNotification",
    "SimulatedRefund",
    "SimulatedTrade",
    "SimulatedTransfer",
]
