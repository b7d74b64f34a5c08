"""Payments reads for pages, the API and admin, written once; one module per area."""

from payments.selectors.orders import (
    course_get_for_purchase,
    order_get_for_learner,
    order_list_for_learner,
    payment_get_open_for_order,
    refund_in_flight_for_order,
)

__all__ = [
    "course_get_for_purchase",
    "order_get_for_learner",
    "order_list_for_learner",
    "payment_get_open_for_order",
    "refund_in_flight_for_order",
]
