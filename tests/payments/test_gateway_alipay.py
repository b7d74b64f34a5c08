"""The gateway contract, run for Alipay: the real SDK over real HTTP against the local Alipay."""

import datetime as dt
from urllib.parse import urlencode

from django.utils import timezone

from payments.gateways.base import IncomingNotification, PaymentRequest, PaymentStart
from payments.models import SimulatedRefund, SimulatedTrade
from tests.payments.alipay.helpers import notification_content, notification_fields, signature, stranger_key
from tests.payments.browser import Browser
from tests.payments.contract import GatewayContract


class TestAlipayContract(GatewayContract):
    channel = "alipay"
    payment_fee_fen = 8  # 0.6 % of ¥12.90, rounded half up

    def _buyer_page(self, browser: Browser, start: PaymentStart):
        # Page pay sends the browser to the cashier; QR pay's code is the URL of the phone's scan page.
        page = browser.get(start.url or start.qr_content)
        assert page.status_code == 200, page.text
        return page

    def buyer_opens(self, start: PaymentStart, request: PaymentRequest):
        return self._buyer_page(Browser(self.site_url), start)

    def buyer_pays(self, start: PaymentStart, request: PaymentRequest) -> None:
        browser = Browser(self.site_url)
        paid = browser.submit(self._buyer_page(browser, start), "/pay/")
        assert paid.status_code == 200, paid.text

    def backdate(self, out_trade_no: str, day: dt.date) -> None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
        trades = SimulatedTrade.objects.filter(gateway="alipay", out_trade_no=out_trade_no)
        trades.update(paid_at=moment)
        SimulatedRefund.objects.filter(trade__in=trades).update(succeeded_at=moment)

    def forged_notification(self, out_trade_no: str, amount_fen: int) -> IncomingNotification:
        payment = type("Payment", (), {"pk": 1, "out_trade_no": out_trade_no, "amount_fen": amount_fen})
        fields = {**notification_fields(payment), "sign_type": "RSA2"}
        fields["sign"] = signature(notification_content(fields), stranger_key())
        return IncomingNotification(
            kind="payment", body=urlencode(fields).encode(), content_type="application/x-www-form-urlencoded"
        )

    def make_unreachable(self, settings) -> None:
        settings.ALIPAY_SERVER_URL = "http://127.0.0.1:9/gateway.do"
