"""What the local Alipay and WeChat Pay charge: their standard 0.6% of a payment, rounded half up to
the fen (a one-fen payment costs nothing), and given back with refunds pro rata on the cumulative
refunded amount, so a full refund, at once or in parts, gives back the whole fee.

Written apart from payments.money on purpose: reconciliation checks our arithmetic against the
simulators' bills, which would prove nothing if both used the same code.
"""

from __future__ import annotations

from payments.models import SimulatedRefund

FEE_PER_MILLE = 6


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def payment_fee_fen(amount_fen: int) -> int:
    return _half_up(amount_fen * FEE_PER_MILLE, 1000)


def refund_fee_fen(refund: SimulatedRefund) -> int:
    """The part of its trade's fee a succeeded refund gives back."""
    trade = refund.trade
    earlier = (
        SimulatedRefund.objects.filter(trade=trade, status=SimulatedRefund.Status.SUCCEEDED)
        .exclude(pk=refund.pk)
        .filter(succeeded_at__lte=refund.succeeded_at)
        .values_list("succeeded_at", "pk", "amount_fen")
    )
    before = sum(fen for at, pk, fen in earlier if (at, pk) < (refund.succeeded_at, refund.pk))
    fee = payment_fee_fen(trade.amount_fen)
    return _half_up(fee * (before + refund.amount_fen), trade.amount_fen) - _half_up(fee * before, trade.amount_fen)
