"""The locks that order changes to money, and the one order they are taken in.

Every path that changes an order, a payment or a refund takes its locks in this order, and never an
earlier one while holding a later one, so two paths can wait for each other but never deadlock:

1. `purchase_lock(learner, course)`: the learner's one purchase of a one-time product. Every path to
   "paid" (a notification, "I have paid", the periodic query, a close answered "already paid",
   reconciliation: all through `payment_event_apply`) takes it first, so of two orders of one
   learner for one course paid at the same instant the second always sees the first and becomes a
   duplicate. The database holds the rule too: at most one order per learner and course is paid
   or partially refunded (`order_one_purchase_per_course`), whatever a future path forgets.
2. The order row (`order_lock`); order_create and order_cancel lock the learner's pending order.
3. The order's payment rows (`payment_lock`).
4. The refund row (payments.services.refunds).
5. A creator's ledger accounts, in primary-key order (payments.services.ledger).

Payouts lock the payout row, then the creator's accounts; settlement the payment, then the accounts.
All row locks are FOR NO KEY UPDATE where the row's key is not changed, so inserting rows that
reference it (ledger lines, refunds, notifications) never waits for them.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.db.transaction import TransactionManagementError

from payments.models import Order, Payment


def purchase_lock(*, learner_id: int, course_id: int) -> None:
    """Hold the learner's purchase of the course until the current transaction ends.

    On PostgreSQL a transaction-level advisory lock on a key made from the pair (an unrelated pair
    sharing the key only waits a little longer); SQLite takes the whole database for every writing
    transaction (IMMEDIATE), which serialises these paths already.

    Raises: TransactionManagementError outside a transaction (the lock would end at once).
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise TransactionManagementError("purchase_lock is held until the transaction ends; open one first.")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_advisory_key("purchase", learner_id, course_id)])


def order_lock(*, order_id: int, related: tuple[str, ...] = ()) -> Order:
    """The order row, locked until the transaction ends (rows in `related` are read, not locked)."""
    return Order.objects.select_for_update(no_key=True, of=("self",)).select_related(*related).get(pk=order_id)


def payment_lock(*, payment_id: int) -> Payment:
    """One payment row, locked until the transaction ends; take its order's lock first."""
    return Payment.objects.select_for_update(no_key=True).get(pk=payment_id)


def _advisory_key(namespace: str, *ids: int) -> int:
    """A signed 64-bit key (PostgreSQL's bigint) for one named thing."""
    digest = hashlib.blake2b(":".join([namespace, *map(str, ids)]).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
