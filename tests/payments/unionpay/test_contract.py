"""The gateway contract, run for UnionPay against the local UnionPay over real HTTP."""

import datetime as dt

from django.utils import timezone

from payments.gateways.base import IncomingNotification, PaymentRequest, PaymentStart
from payments.models import SimulatedRefund, SimulatedTrade
from tests.payments.browser import Browser
from tests.payments.contract import GatewayContract
from tests.payments.unionpay.helpers import (
    TEST_CARD,
    consume_fields,
    notification_body,
    open_cashier,
    self_signed_unionpay_lookalike,
)


class TestUnionpayContract(GatewayContract):
    channel = "unionpay"
    payment_fee_fen = 8  # 0.6 % of ¥12.90, rounded half up
    closes_at_gateway = False
    unknown_ref = "20260101000000"

    def buyer_opens(self, start: PaymentStart, request: PaymentRequest):
        page = open_cashier(Browser(self.site_url), start)
        assert page.status_code == 200, page.text
        return page

    def buyer_pays(self, start: PaymentStart, request: PaymentRequest) -> None:
        browser = Browser(self.site_url)
        paid = browser.submit(open_cashier(browser, start), "/pay/", card=TEST_CARD)
        assert paid.status_code == 200, paid.text
        assert SimulatedTrade.objects.get(gateway="unionpay", out_trade_no=request.out_trade_no).status == "paid"

    def backdate(self, out_trade_no: str, day: dt.date) -> None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
        trades = SimulatedTrade.objects.filter(gateway="unionpay", out_trade_no=out_trade_no)
        trades.update(paid_at=moment)
        SimulatedRefund.objects.filter(trade__in=trades).update(succeeded_at=moment)

    def forged_notification(self, out_trade_no: str, amount_fen: int) -> IncomingNotification:
        body = notification_body(
            consume_fields(out_trade_no=out_trade_no, amount_fen=amount_fen), self_signed_unionpay_lookalike()
        )
        return IncomingNotification(kind="payment", body=body, content_type="application/x-www-form-urlencoded")

    def make_unreachable(self, settings) -> None:
        settings.UNIONPAY_GATEWAY_URL = "http://127.0.0.1:9/"
