"""Arithmetic on money: the platform fee of a sale, its share of a refund, what a payout paid, and
the fee a gateway should charge.

Integer fen in, integer fen out; conversions between fen and yuan live in knowpay.money.

Rounding policy:

- A sale of `gross` fen pays the platform `gross * fee_bps / 10000` rounded half up to a whole fen;
  the creator gets the exact remainder, so fee + net == gross, always.
- A refund gives back the fee pro rata on the *cumulative* refunded amount: once `C` of a sale of
  `G` with fee `F` has been refunded, the fee refunded so far is `F * C / G` rounded half up. A
  refund's fee share is that figure after it minus that figure before it; the creator gives back
  the rest of the refund. So the parts of any sequence of partial refunds add up to the sale, and
  refunding everything (at once or in parts) reverses the fee and the creator's share exactly.
- A gateway charging `rate_bps` keeps the same rounding of a payment (Alipay and WeChat Pay round
  their fee half up to the fen, so a one-fen payment costs nothing) and gives it back pro rata on
  the cumulative refunded amount, like the platform fee above.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

BPS_WHOLE = 10_000


def _check_fen(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of fen, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative: {value}")


def _div_round_half_up(numerator: int, denominator: int) -> int:
    # floor(n/d + 1/2) in integers, for n >= 0 and d > 0.
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class SaleSplit:
    gross_fen: int
    fee_fen: int
    net_fen: int


@dataclass(frozen=True)
class RefundSplit:
    fee_fen: int  # given back by the platform
    creator_fen: int  # taken back from the creator


def sale_split(*, gross_fen: int, fee_bps: int) -> SaleSplit:
    """Split a sale into the platform fee (rounded half up) and the creator's exact remainder.

    >>> sale_split(gross_fen=1290, fee_bps=1000)
    SaleSplit(gross_fen=1290, fee_fen=129, net_fen=1161)
    >>> sale_split(gross_fen=1295, fee_bps=1000)  # a fee of 129.5 fen rounds up
    SaleSplit(gross_fen=1295, fee_fen=130, net_fen=1165)
    >>> sale_split(gross_fen=1294, fee_bps=1000)  # 129.4 rounds down
    SaleSplit(gross_fen=1294, fee_fen=129, net_fen=1165)
    >>> sale_split(gross_fen=1, fee_bps=1000), sale_split(gross_fen=5, fee_bps=1000)
    (SaleSplit(gross_fen=1, fee_fen=0, net_fen=1), SaleSplit(gross_fen=5, fee_fen=1, net_fen=4))
    >>> sale_split(gross_fen=999, fee_bps=0), sale_split(gross_fen=999, fee_bps=10000)
    (SaleSplit(gross_fen=999, fee_fen=0, net_fen=999), SaleSplit(gross_fen=999, fee_fen=999, net_fen=0))
    """
    _check_fen("gross_fen", gross_fen)
    if isinstance(fee_bps, bool) or not isinstance(fee_bps, int) or not 0 <= fee_bps <= BPS_WHOLE:
        raise ValueError(f"fee_bps must be an int from 0 to {BPS_WHOLE}: {fee_bps!r}")
    fee = _div_round_half_up(gross_fen * fee_bps, BPS_WHOLE)
    return SaleSplit(gross_fen=gross_fen, fee_fen=fee, net_fen=gross_fen - fee)


def refund_split(*, gross_fen: int, fee_fen: int, refunded_before_fen: int, refund_fen: int) -> RefundSplit:
    """Split a refund of a sale (`gross_fen`, `fee_fen`) into the fee given back and the creator's part.

    `refunded_before_fen` is what earlier refunds of the same sale returned.

    >>> refund_split(gross_fen=1000, fee_fen=100, refunded_before_fen=0, refund_fen=333)
    RefundSplit(fee_fen=33, creator_fen=300)
    >>> refund_split(gross_fen=1000, fee_fen=100, refunded_before_fen=333, refund_fen=333)  # 66.6 -> 67, 67 - 33
    RefundSplit(fee_fen=34, creator_fen=299)
    >>> refund_split(gross_fen=1000, fee_fen=100, refunded_before_fen=666, refund_fen=334)  # the rest: 100 - 67
    RefundSplit(fee_fen=33, creator_fen=301)
    >>> refund_split(gross_fen=1290, fee_fen=129, refunded_before_fen=0, refund_fen=1290)  # a full refund
    RefundSplit(fee_fen=129, creator_fen=1161)
    """
    for name, value in (("gross_fen", gross_fen), ("fee_fen", fee_fen), ("refunded_before_fen", refunded_before_fen)):
        _check_fen(name, value)
    _check_fen("refund_fen", refund_fen)
    if fee_fen > gross_fen:
        raise ValueError(f"a fee of {fee_fen} fen exceeds the sale of {gross_fen} fen")
    if refund_fen == 0 or refunded_before_fen + refund_fen > gross_fen:
        raise ValueError(f"cannot refund {refund_fen} fen after {refunded_before_fen} of a sale of {gross_fen} fen")
    before = _div_round_half_up(fee_fen * refunded_before_fen, gross_fen)
    after = _div_round_half_up(fee_fen * (refunded_before_fen + refund_fen), gross_fen)
    return RefundSplit(fee_fen=after - before, creator_fen=refund_fen - (after - before))


def gateway_fee_expected(*, amount_fen: int, rate_bps: int) -> int:
    """The fee a gateway charging `rate_bps` keeps of a payment, rounded half up to the fen.

    >>> gateway_fee_expected(amount_fen=1290, rate_bps=60)  # 0.6% of 12.90 is 7.74 fen
    8
    >>> gateway_fee_expected(amount_fen=1, rate_bps=60), gateway_fee_expected(amount_fen=84, rate_bps=60)
    (0, 1)
    """
    return sale_split(gross_fen=amount_fen, fee_bps=rate_bps).fee_fen


def gateway_fee_returned_expected(*, payment_fen: int, rate_bps: int, refunded_before_fen: int, refund_fen: int) -> int:
    """The part of a payment's gateway fee given back with a refund, pro rata on the cumulative refund.

    >>> gateway_fee_returned_expected(payment_fen=1290, rate_bps=60, refunded_before_fen=0, refund_fen=645)
    4
    >>> gateway_fee_returned_expected(payment_fen=1290, rate_bps=60, refunded_before_fen=645, refund_fen=645)
    4
    """
    fee_fen = gateway_fee_expected(amount_fen=payment_fen, rate_bps=rate_bps)
    return refund_split(
        gross_fen=payment_fen, fee_fen=fee_fen, refunded_before_fen=refunded_before_fen, refund_fen=refund_fen
    ).fee_fen


def fifo_allocate(*, amount_fen: int, sources: Iterable[tuple[Hashable, int]]) -> list[tuple[Hashable, int]]:
    """Cover `amount_fen` from `sources` (key, fen available), oldest first; returns (key, fen taken).

    >>> fifo_allocate(amount_fen=500, sources=[("a", 300), ("b", 0), ("c", 400), ("d", 100)])
    [('a', 300), ('c', 200)]
    >>> fifo_allocate(amount_fen=500, sources=[("a", 300)])  # what cannot be covered stays uncovered
    [('a', 300)]
    """
    _check_fen("amount_fen", amount_fen)
    taken: list[tuple[Hashable, int]] = []
    left = amount_fen
    for key, available in sources:
        if left == 0:
            break
        if available <= 0:
            continue
        part = min(available, left)
        taken.append((key, part))
        left -= part
    return taken
