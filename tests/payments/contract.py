"""The contract every gateway module must pass, over real HTTP against its local simulator.

A channel's test module subclasses GatewayContract, sets `channel`, and implements the buyer's
side (`buyer_opens`, `buyer_pays`, optionally `buyer_abandons`, and `payer_authorizes` for
channels with methods that need the payer's openid), the simulator's clock (`backdate`), a forged
notification, and settings that make the gateway unreachable. Every test then runs for that
channel, and the flow tests for every one of its methods.

Like checkout, the suite keeps each start on the attempt and hands the gateway its own references
back (`gateway_ref` from the start, `gateway_trade_no` once paid), as the core does.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace

import pytest
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import (
    Device,
    GatewayRejected,
    GatewayUnavailable,
    IncomingNotification,
    NotificationRejected,
    PayerAuthorizationFailed,
    PaymentRequest,
    PaymentStart,
    RefundRequest,
    RefundStatus,
    StartKind,
    StatementEntryKind,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeStatus,
    TransferRequest,
)
from payments.models import Payment
from tests.factories import PaymentFactory


def _out_trade_no() -> str:
    return f"KP{timezone.localtime():%Y%m%d%H%M%S}{secrets.randbelow(10**6):06d}P01"


@pytest.mark.django_db(transaction=True)
class GatewayContract:
    channel: str = ""
    amount_fen: int = 1290
    # False for gateways with no way to close an unpaid trade (UnionPay: it lapses at its payTimeout).
    closes_at_gateway: bool = True
    # A well-formed gateway_ref the gateway never issued (gateways that need one ask the network with it).
    unknown_ref: str = "unknown"
    # What the gateway's bill says it charged for a payment of amount_fen (0: its bill shows no fee).
    payment_fee_fen: int = 0

    # --- What each channel's test class provides ------------------------------------------

    def buyer_opens(self, start: PaymentStart, request: PaymentRequest) -> None:
        """The buyer opens the payment page or scans the code (the trade then exists at the gateway)."""
        raise NotImplementedError

    def buyer_pays(self, start: PaymentStart, request: PaymentRequest) -> None:
        """The buyer completes the payment in the simulator's own pages, over HTTP."""
        raise NotImplementedError

    def backdate(self, out_trade_no: str, day: dt.date) -> None:
        """Move the simulator's records of this trade (and its refunds) to `day`, for bills."""
        raise NotImplementedError

    def forged_notification(self, out_trade_no: str, amount_fen: int) -> IncomingNotification:
        """A payment notification in this channel's dialect, signed with a key that is not the gateway's."""
        raise NotImplementedError

    def make_unreachable(self, settings) -> None:
        """Point this channel's client at a port where nothing listens."""
        raise NotImplementedError

    def buyer_abandons(self, start: PaymentStart, request: PaymentRequest) -> None:
        """The buyer opens the payment page and leaves it halfway (cancels, goes back, closes it)."""
        self.buyer_opens(start, request)

    def payer_authorizes(self, url: str) -> str:
        """Channels with methods that need the payer's openid: the payer's browser follows the
        gateway's authorisation URL; returns the code it is sent back with."""
        raise NotImplementedError

    # --- Fixtures ---------------------------------------------------------------------------

    @pytest.fixture
    def gateway(self, gateway_site, settings):
        settings.PAYMENTS_CHANNELS = [*settings.PAYMENTS_CHANNELS, self.channel]
        return gateway_get(self.channel)

    def new_payment(self, method: str) -> Payment:
        """Our own record of an attempt, so the simulator's notification has somewhere to land."""
        return PaymentFactory(
            channel=self.channel,
            method=method,
            out_trade_no=_out_trade_no(),
            amount_fen=self.amount_fen,
            order__amount_fen=self.amount_fen,
            order__course__price_fen=self.amount_fen,
        )

    @pytest.fixture
    def payment(self, gateway):
        return self.new_payment(gateway.methods[0].code)

    @pytest.fixture
    def payer_openid(self, gateway) -> str:
        """The buyer's openid at our app, for methods that need one ("" for channels without any)."""
        if not any(method.needs_payer_openid for method in gateway.methods):
            return ""
        url = gateway.payer_authorize_url(redirect_uri=f"{self.site_url}/payments/authorized/", state="contract")
        return gateway.payer_openid(code=self.payer_authorizes(url))

    @pytest.fixture
    def request_for(self, gateway_site, payer_openid):
        def build(payment: Payment, method: str) -> PaymentRequest:
            return PaymentRequest(
                out_trade_no=payment.out_trade_no,
                amount_fen=payment.amount_fen,
                subject="Contract test course 合同测试",
                method=method,
                notify_url=f"{gateway_site.url}/payments/notify/{self.channel}/",
                return_url=f"{gateway_site.url}/orders/{payment.order.order_no}/return/",
                expires_at=timezone.now() + dt.timedelta(minutes=30),
                client_ip="127.0.0.1",
                product_id="1",
                quit_url=f"{gateway_site.url}/orders/{payment.order.order_no}/",
                payer_openid=payer_openid,
            )

        return build

    @pytest.fixture
    def paid(self, gateway, payment, request_for):
        request = request_for(payment, gateway.methods[0].code)
        start = self.start(gateway, payment, request)
        self.buyer_pays(start, request)
        payment.refresh_from_db()
        return payment

    @staticmethod
    def start(gateway, payment: Payment, request: PaymentRequest) -> PaymentStart:
        """Start as checkout does: the start (with the gateway's reference) is kept on the attempt."""
        start = gateway.start_payment(request)
        Payment.objects.filter(pk=payment.pk).update(start_data=start.as_dict())
        payment.start_data = start.as_dict()
        return start

    @staticmethod
    def ref(payment: Payment) -> str:
        return Payment.objects.get(pk=payment.pk).gateway_ref

    def refund_request(self, payment: Payment, refund_fen: int, suffix: str = "01") -> RefundRequest:
        return RefundRequest(
            out_trade_no=payment.out_trade_no,
            out_refund_no=f"{payment.order.order_no}R{suffix}",
            refund_fen=refund_fen,
            total_fen=payment.amount_fen,
            reason="contract test",
            notify_url=f"{self.site_url}/payments/notify/{self.channel}/refund/",
            gateway_trade_no=payment.gateway_trade_no,
        )

    @pytest.fixture(autouse=True)
    def _site_url(self, gateway_site):
        self.site_url = gateway_site.url

    # --- Starting a payment -----------------------------------------------------------------

    def test_every_method_starts_with_what_the_browser_needs(self, gateway, payment, request_for):
        for method in gateway.methods:
            start = self.start(gateway, payment, request_for(payment, method.code))
            field = {
                StartKind.REDIRECT: start.url,
                StartKind.FORM: start.html,
                StartKind.QR: start.qr_content,
                StartKind.BRIDGE: start.bridge_params,
            }
            assert field[start.kind], f"{method.code} returned an empty {start.kind}"
            payment.out_trade_no = _out_trade_no()

    def test_every_device_has_a_method(self, gateway):
        for device in Device:
            assert any(method.suits(device) for method in gateway.methods), device

    def test_every_method_is_paid_through_its_own_flow(self, gateway, request_for):
        for method in gateway.methods:
            payment = self.new_payment(method.code)
            request = request_for(payment, method.code)

            self.buyer_pays(self.start(gateway, payment, request), request)

            assert (
                gateway.query_payment(payment.out_trade_no, gateway_ref=self.ref(payment)).status == TradeStatus.PAID
            ), method.code
            payment.refresh_from_db()
            assert payment.status == Payment.Status.SUCCEEDED, method.code

    def test_every_method_abandoned_halfway_can_still_be_paid(self, gateway, request_for):
        for method in gateway.methods:
            payment = self.new_payment(method.code)
            request = request_for(payment, method.code)
            first = self.start(gateway, payment, request)
            self.buyer_abandons(first, request)

            try:
                status = gateway.query_payment(payment.out_trade_no, gateway_ref=self.ref(payment)).status
            except TradeNotFound:
                status = TradeStatus.WAITING  # never created at the gateway: nothing to pay yet
            assert status == TradeStatus.WAITING, method.code

            again = self.start(gateway, payment, replace(request, gateway_ref=first.gateway_ref))
            self.buyer_pays(again, request)
            assert (
                gateway.query_payment(payment.out_trade_no, gateway_ref=self.ref(payment)).status == TradeStatus.PAID
            ), method.code

    def test_starting_again_with_the_same_number_is_accepted(self, gateway, payment, request_for):
        request = request_for(payment, gateway.methods[0].code)
        first = self.start(gateway, payment, request)
        self.buyer_opens(first, request)

        again = gateway.start_payment(replace(request, gateway_ref=first.gateway_ref))

        assert again.kind == first.kind
        assert again.gateway_ref == first.gateway_ref

    # --- Query ------------------------------------------------------------------------------

    def test_query_of_unknown_trade_raises_trade_not_found(self, gateway):
        with pytest.raises(TradeNotFound):
            gateway.query_payment(_out_trade_no())

    def test_query_of_opened_unpaid_trade_is_waiting(self, gateway, payment, request_for):
        request = request_for(payment, gateway.methods[0].code)
        self.buyer_opens(self.start(gateway, payment, request), request)

        event = gateway.query_payment(payment.out_trade_no, gateway_ref=self.ref(payment))

        assert (event.status, event.amount_fen) == (TradeStatus.WAITING, payment.amount_fen)

    def test_query_of_paid_trade_reports_paid_with_amount(self, gateway, paid):
        event = gateway.query_payment(paid.out_trade_no, gateway_ref=self.ref(paid))

        assert event.status == TradeStatus.PAID
        assert event.amount_fen == paid.amount_fen
        assert event.currency == paid.order.currency
        assert event.gateway_trade_no
        assert event.paid_at is not None

    # --- Notification -----------------------------------------------------------------------

    def test_paying_sends_a_notification_we_verify_and_apply(self, gateway, paid):
        paid.refresh_from_db()

        assert paid.status == Payment.Status.SUCCEEDED
        assert paid.order.status == "paid"

    def test_forged_notification_is_rejected(self, gateway, payment):
        with pytest.raises(NotificationRejected):
            gateway.parse_notification(self.forged_notification(payment.out_trade_no, payment.amount_fen))

    def test_empty_notification_is_rejected(self, gateway):
        with pytest.raises(NotificationRejected):
            gateway.parse_notification(IncomingNotification(kind="payment", body=b"", content_type=""))

    def test_replies_for_accepted_and_refused_notifications_differ(self, gateway):
        accepted = gateway.notification_reply(accepted=True)
        refused = gateway.notification_reply(accepted=False, message="rejected")

        assert accepted.body != refused.body

    # --- Close ------------------------------------------------------------------------------

    def test_closed_trade_is_reported_closed(self, gateway, payment, request_for):
        request = request_for(payment, gateway.methods[0].code)
        self.buyer_opens(self.start(gateway, payment, request), request)

        gateway.close_payment(payment.out_trade_no, gateway_ref=self.ref(payment))

        status = gateway.query_payment(payment.out_trade_no, gateway_ref=self.ref(payment)).status
        # Where the gateway cannot close, the trade stays unpaid until it lapses by itself.
        assert status == TradeStatus.CLOSED if self.closes_at_gateway else status != TradeStatus.PAID

    def test_closing_a_trade_the_gateway_never_saw_is_not_an_error(self, gateway):
        gateway.close_payment(_out_trade_no())

    def test_closing_a_paid_trade_raises_trade_already_paid(self, gateway, paid):
        with pytest.raises(TradeAlreadyPaid):
            gateway.close_payment(paid.out_trade_no, gateway_ref=self.ref(paid))

    # --- Refund -----------------------------------------------------------------------------

    def test_partial_then_full_refund(self, gateway, paid):
        first = gateway.refund(self.refund_request(paid, 290, "01"))
        rest = gateway.refund(self.refund_request(paid, paid.amount_fen - 290, "02"))

        assert first.status in (RefundStatus.SUCCEEDED, RefundStatus.PROCESSING)
        assert rest.refund_fen == paid.amount_fen - 290
        for suffix, answer in (("01", first), ("02", rest)):
            refund = gateway.query_refund(
                paid.out_trade_no,
                f"{paid.order.order_no}R{suffix}",
                gateway_trade_no=paid.gateway_trade_no,
                gateway_refund_no=answer.gateway_refund_no,
            )
            assert refund.status == RefundStatus.SUCCEEDED

    def test_refund_is_idempotent_for_the_same_refund_number(self, gateway, paid):
        gateway.refund(self.refund_request(paid, 100))
        again = gateway.refund(self.refund_request(paid, 100))

        assert again.refund_fen == 100
        more = gateway.refund(self.refund_request(paid, paid.amount_fen - 100, "02"))
        assert more.refund_fen == paid.amount_fen - 100

    def test_refund_above_what_is_left_is_rejected(self, gateway, paid):
        gateway.refund(self.refund_request(paid, paid.amount_fen - 1, "01"))

        with pytest.raises(GatewayRejected):
            gateway.refund(self.refund_request(paid, 2, "02"))

    def test_refund_of_unpaid_trade_is_rejected(self, gateway, payment, request_for):
        request = request_for(payment, gateway.methods[0].code)
        self.buyer_opens(self.start(gateway, payment, request), request)

        with pytest.raises(GatewayRejected):
            gateway.refund(self.refund_request(payment, 100))

    # --- Statement --------------------------------------------------------------------------

    def test_statement_lists_the_days_payments_and_refunds(self, gateway, paid):
        gateway.refund(self.refund_request(paid, 300))
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        self.backdate(paid.out_trade_no, yesterday)

        statement = gateway.fetch_statement(yesterday)

        mine = [e for e in statement.entries if e.out_trade_no == paid.out_trade_no]
        kinds = sorted((e.kind, e.amount_fen) for e in mine)
        assert kinds == [(StatementEntryKind.PAYMENT, paid.amount_fen), (StatementEntryKind.REFUND, 300)]
        assert {e.currency for e in mine} == {paid.order.currency}
        assert [e.fee_fen for e in mine if e.kind == StatementEntryKind.PAYMENT] == [self.payment_fee_fen]
        # A fee is never negative (the kind gives its direction) and never more than the money it is on.
        assert all(0 <= e.fee_fen <= e.amount_fen for e in mine)

    # --- Failure modes ----------------------------------------------------------------------

    def test_unreachable_gateway_raises_gateway_unavailable(self, gateway, settings):
        self.make_unreachable(settings)

        with pytest.raises(GatewayUnavailable):
            gateway_get(self.channel).query_payment(_out_trade_no(), gateway_ref=self.unknown_ref)

    # --- Who pays (channels with methods that need the payer's openid) ------------------------

    def _needs_payer(self, gateway) -> None:
        if not any(method.needs_payer_openid for method in gateway.methods):
            pytest.skip(f"{self.channel} has no method that needs the payer's openid")

    def test_a_payer_authorisation_code_gives_the_openid_once(self, gateway):
        self._needs_payer(gateway)
        url = gateway.payer_authorize_url(redirect_uri=f"{self.site_url}/payments/authorized/", state="contract")
        code = self.payer_authorizes(url)

        assert gateway.payer_openid(code=code)
        with pytest.raises(PayerAuthorizationFailed):
            gateway.payer_openid(code=code)

    def test_a_forged_payer_authorisation_code_is_refused(self, gateway):
        self._needs_payer(gateway)

        with pytest.raises(PayerAuthorizationFailed):
            gateway.payer_openid(code=secrets.token_hex(16))

    # --- Transfers (channels that support them) ---------------------------------------------

    def test_transfer_is_idempotent_for_the_same_business_number(self, gateway):
        if not gateway.supports_transfer:
            pytest.skip(f"{self.channel} does not support transfers")
        request = TransferRequest(
            out_biz_no=f"PO{secrets.randbelow(10**12):012d}",
            amount_fen=10000,
            payee_account="creator@example.com",
            payee_name="张三",
            remark="KnowPay payout",
        )

        first = gateway.transfer(request)
        again = gateway.transfer(request)

        assert first.succeeded
        assert again.transfer_no == first.transfer_no
