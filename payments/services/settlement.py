"""Settlement: a sale's creator share is held for SETTLEMENT_HOLD_DAYS after payment, then available.

`earnings_settle_due` runs periodically (payments.tasks.earnings_settle_due_task) and from
`manage.py settle_earnings`. Each sale settles in its own transaction, at most once: a second run,
or two at the same time, find it settled (one settlement entry per sale, unique in the database).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from payments.models import LedgerEntry, Payment
from payments.selectors.earnings import sale_held_fen, sale_payment_ids_due_for_settlement
from payments.services import ledger
from payments.services.sweeps import sweep_each


def earning_settle(*, payment_id: int, now: dt.datetime | None = None) -> bool:
    """Make what is left of one sale's creator share available, if its hold has ended.

    Returns True if it was settled now.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The payment's lock orders this against a refund of the same sale, which takes it first.
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        sale = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SALE, payment=payment).first()
        if sale is None or sale.settles_at > now:
            return False
        ledger.ledger_creator_accounts_lock(creator_id=sale.creator_id)
        if LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SETTLEMENT, payment=payment).exists():
            return False
        held_fen = sale_held_fen(payment_id=payment.pk)
        if held_fen <= 0:
            return False
        ledger.ledger_settlement_post(sale=sale, payment=payment, amount_fen=held_fen)
    return True


def earnings_settle_due(*, now: dt.datetime | None = None) -> int:
    """Settle every sale whose hold has ended, oldest first. Returns how many were settled now."""
    now = now or timezone.now()
    settled = sweep_each(
        sweep="earnings_settle",
        model=Payment,
        ids=sale_payment_ids_due_for_settlement(now=now),
        work=lambda pk: earning_settle(payment_id=pk, now=now),
        now=now,
    )
    return sum(settled)
