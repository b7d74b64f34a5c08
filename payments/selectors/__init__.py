"""Payments reads for pages, the API and admin, written once; one module per area."""

from payments.selectors.earnings import (
    earnings_by_course,
    earnings_daily,
    earnings_pending_parts,
    earnings_summary,
    payout_get_for_creator,
    payout_list_for_creator,
    sale_held_fen,
    sale_list_for_creator,
    sale_payment_ids_due_for_settlement,
    sale_unpaid_settled_list,
)
from payments.selectors.ledger import ledger_account_list_with_balances, ledger_violations
from payments.selectors.orders import (
    course_get_for_purchase,
    duplicate_refunds_for_order,
    order_get_for_learner,
    order_list_for_learner,
    order_refund_summary,
    order_rows_for_learner,
    payment_get_open_for_order,
    refund_deadline,
    refund_in_flight_for_order,
)

__all__ = [
    "course_get_for_purchase",
    "duplicate_refunds_for_order",
    "earnings_by_course",
    "earnings_daily",
    "earnings_pending_parts",
    "earnings_summary",
    "ledger_account_list_with_balances",
    "ledger_violations",
    "order_get_for_learner",
    "order_list_for_learner",
    "order_refund_summary",
    "order_rows_for_learner",
    "payment_get_open_for_order",
    "payout_get_for_creator",
    "payout_list_for_creator",
    "refund_deadline",
    "refund_in_flight_for_order",
    "sale_held_fen",
    "sale_list_for_creator",
    "sale_payment_ids_due_for_settlement",
    "sale_unpaid_settled_list",
]
