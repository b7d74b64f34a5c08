"""Ledger postings called by the payment core, one call per money movement.

The double-entry ledger (issue: ledger, earnings and payouts) implements these; the payment core
only ever calls them inside the transaction that records the movement.
"""

from payments.models import Payment, Refund


def ledger_sale_post(*, payment: Payment) -> None:
    """A primary payment succeeded: gross to gateway clearing, fee to the platform, the rest to the creator."""


def ledger_duplicate_payment_post(*, payment: Payment) -> None:
    """A duplicate payment arrived: the money is owed back to the payer."""


def ledger_refund_post(*, refund: Refund) -> None:
    """A refund succeeded at the gateway: reverse the sale (or the duplicate) proportionally."""
