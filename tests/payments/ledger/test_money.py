"""The fee and refund arithmetic: rounding as documented, parts that always add up."""

import doctest
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments import money
from payments.money import fifo_allocate, refund_split, sale_split

grosses = st.integers(min_value=1, max_value=10**9)
fee_rates = st.integers(min_value=0, max_value=10_000)


def test_the_documented_examples_hold():
    assert doctest.testmod(money).failed == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gross_fen": -1, "fee_bps": 1000},
        {"gross_fen": 100, "fee_bps": 10_001},
        {"gross_fen": 100, "fee_bps": -1},
        {"gross_fen": 12.5, "fee_bps": 1000},
        {"gross_fen": True, "fee_bps": 1000},
    ],
)
def test_sale_split_refuses_what_is_not_fen_or_a_rate(kwargs):
    with pytest.raises((TypeError, ValueError)):
        sale_split(**kwargs)


@pytest.mark.parametrize(
    ("refunded_before", "refund"),
    [(0, 0), (0, 1001), (900, 101), (0, -5)],
    ids=["nothing", "more-than-the-sale", "more-than-is-left", "negative"],
)
def test_refund_split_refuses_amounts_beyond_the_sale(refunded_before, refund):
    with pytest.raises(ValueError, match=r"cannot refund|must not be negative"):
        refund_split(gross_fen=1000, fee_fen=100, refunded_before_fen=refunded_before, refund_fen=refund)


@given(gross=grosses, fee_bps=fee_rates)
def test_fee_and_share_add_up_to_the_gross(gross, fee_bps):
    split = sale_split(gross_fen=gross, fee_bps=fee_bps)

    assert split.fee_fen + split.net_fen == gross
    assert 0 <= split.fee_fen <= gross
    # Round half up: never more than half a fen from the exact fee.
    assert abs(2 * (split.fee_fen * 10_000 - gross * fee_bps)) <= 10_000


@given(gross=grosses, fee_bps=fee_rates, cuts=st.lists(st.floats(min_value=0, max_value=1), max_size=6))
def test_any_sequence_of_refunds_sums_to_the_sale_when_complete(gross, fee_bps, cuts):
    split = sale_split(gross_fen=gross, fee_bps=fee_bps)
    points = sorted({0, gross, *(int(cut * gross) for cut in cuts)})
    refunds = [
        refund_split(gross_fen=gross, fee_fen=split.fee_fen, refunded_before_fen=before, refund_fen=after - before)
        for before, after in itertools.pairwise(points)
    ]

    assert all(part.fee_fen >= 0 and part.creator_fen >= 0 for part in refunds)
    assert sum(part.fee_fen for part in refunds) == split.fee_fen
    assert sum(part.creator_fen for part in refunds) == split.net_fen


def test_fifo_takes_the_oldest_first_and_skips_empty_sources():
    taken = fifo_allocate(amount_fen=700, sources=[("old", 0), ("older", -50), ("a", 300), ("b", 500), ("c", 100)])

    assert taken == [("a", 300), ("b", 400)]
