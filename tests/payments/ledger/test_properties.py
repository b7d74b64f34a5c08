"""Random histories of sales, duplicates, refunds, settlement runs and payouts, driven through the real
services, keep every invariant that `ledger_check` verifies, and every refusal posts nothing."""

import datetime as dt

from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from payments.gateways.base import RefundEvent, RefundStatus
from payments.models import LedgerAccount, LedgerEntry, LedgerLine, Order, Payment, Payout, Refund
from payments.selectors.earnings import earnings_summary
from payments.selectors.ledger import ledger_violations
from payments.services.payouts import (
    PayoutError,
    payout_approve,
    payout_mark_paid_by_bank,
    payout_reject,
    payout_request,
    payouts_send_stuck,
)
from payments.services.refunds import RefundError, refund_event_apply, refund_issue
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, CreatorFactory, UserFactory
from tests.payments.ledger.fakes import TransferGateway
from tests.payments.ledger.helpers import pay_twice, refund_succeed, sell

PRICES = [1, 99, 1290, 9999]

sales = st.tuples(st.just("sale"), st.integers(0, 3), st.integers(0, 12))
settlements = st.tuples(st.just("settle"), st.integers(0, 10))
payouts = st.tuples(st.just("payout"), st.integers(0, 1), st.integers(1, 120))
decisions = st.tuples(
    st.just("decide"), st.integers(0, 30), st.sampled_from(["ok", "rejected", "down", "bank", "reject"])
)
# Money has to arrive and settle before it can be paid out: those steps come up twice as often.
steps = st.one_of(
    sales,
    sales,
    settlements,
    settlements,
    payouts,
    payouts,
    decisions,
    decisions,
    st.tuples(st.just("duplicate"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 100), st.booleans()),
    st.tuples(st.just("duplicate_refund"), st.integers(0, 30)),
    st.tuples(st.just("send_again")),
)


@override_settings(
    PAYMENT_GATEWAYS={
        "sandbox": "payments.gateways.sandbox.SandboxGateway",
        "testpay": "tests.payments.ledger.fakes.TransferGateway",
    },
    PAYMENTS_CHANNELS=["sandbox", "testpay"],
    PAYOUT_TRANSFER_CHANNEL="testpay",
    PAYOUT_MIN_FEN=1,
    PLATFORM_FEE_BPS=1000,
    SETTLEMENT_HOLD_DAYS=7,
)
class LedgerHistoryTest(TestCase):
    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(opening=st.lists(sales, min_size=2, max_size=6), history=st.lists(steps, min_size=6, max_size=24))
    def test_random_histories_keep_every_ledger_invariant(self, opening, history):
        TransferGateway.answers, TransferGateway.requests = [], []
        self.staff = UserFactory(is_staff=True)
        self.creators = [CreatorFactory(), CreatorFactory()]
        profile = self.creators[1].creator_profile
        profile.platform_fee_bps = 333
        profile.save()
        self.courses = [CourseFactory(creator=self.creators[i % 2], price_fen=price) for i, price in enumerate(PRICES)]
        self.sales: list[Payment] = []
        self.clock = timezone.now()

        for step in opening + history:
            entries = LedgerEntry.objects.count()
            try:
                getattr(self, f"_{step[0]}")(*step[1:])
            except (RefundError, PayoutError):
                assert LedgerEntry.objects.count() == entries, f"{step} was refused but posted"
            assert ledger_violations() == [], f"after {step}"

        for creator in self.creators:
            self._assert_creator_money_is_accounted_for(creator)

    def _pick(self, items, index):
        return items[index % len(items)] if items else None

    def _sale(self, course_index, days_ago):
        self.sales.append(sell(self.courses[course_index], days_ago=days_ago))

    def _duplicate(self, index):
        sale = self._pick(self.sales, index)
        if sale is not None:
            pay_twice(sale)

    def _refund(self, index, percent, succeeds):
        sale = self._pick(self.sales, index)
        if sale is None:
            return
        order = Order.objects.get(pk=sale.order_id)
        amount = max(1, order.refundable_fen * percent // 100)
        refund = refund_issue(order=order, staff=self.staff, amount_fen=amount, reason="property")
        if succeeds:
            refund_succeed(refund)
        else:
            refund_event_apply(
                channel="sandbox",
                event=RefundEvent(
                    out_trade_no=sale.out_trade_no,
                    out_refund_no=refund.refund_no,
                    status=RefundStatus.FAILED,
                    refund_fen=refund.amount_fen,
                ),
            )

    def _duplicate_refund(self, index):
        refunds = list(Refund.objects.filter(kind=Refund.Kind.DUPLICATE, status=Refund.Status.PROCESSING))
        refund = self._pick(refunds, index)
        if refund is not None:
            refund_succeed(refund)

    def _settle(self, days):
        self.clock += dt.timedelta(days=days)
        earnings_settle_due(now=self.clock)

    def _payout(self, creator_index, percent):
        creator = self.creators[creator_index]
        available = LedgerAccount.objects.filter(creator=creator, kind=LedgerAccount.Kind.CREATOR_AVAILABLE)
        balance = available.values_list("balance_fen", flat=True).first() or 0
        # Up to 120% of what is available, so some requests must be refused.
        payout_request(creator=creator, requested_by=creator, amount_fen=max(1, balance * percent // 100))
        assert available.get().balance_fen >= 0, "a payout reserved more than was available"

    def _decide(self, index, how):
        payout = self._pick(list(Payout.objects.order_by("pk")), index)
        if payout is None:
            return
        if how == "reject":
            payout_reject(payout=payout, staff=self.staff, note="property")
        elif how == "bank":
            payout_mark_paid_by_bank(payout=payout, staff=self.staff, reference="BANK-REF")
        else:
            TransferGateway.answers = [how]
            with self.captureOnCommitCallbacks(execute=True):
                payout_approve(payout=payout, staff=self.staff)

    def _send_again(self):
        payouts_send_stuck(older_than=dt.timedelta(0))

    def _assert_creator_money_is_accounted_for(self, creator):
        summary = earnings_summary(creator=creator)
        assert (
            summary.available_fen + summary.pending_fen + summary.in_payout_fen + summary.paid_out_fen
            == summary.kept_fen
        )
        paid = Payout.objects.filter(creator=creator, status=Payout.Status.PAID).aggregate(total=Sum("amount_fen"))
        assert summary.paid_out_fen == (paid["total"] or 0)
        total = LedgerLine.objects.aggregate(total=Sum("amount_fen"))["total"] or 0
        assert total == 0
