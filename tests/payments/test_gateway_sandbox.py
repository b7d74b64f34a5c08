"""The gateway contract, run for the sandbox channel against its local simulator."""

import datetime as dt
from urllib.parse import urlencode

from django.utils import timezone

from payments.gateways.base import IncomingNotification, PaymentRequest, PaymentStart
from payments.gateways.sandbox import sandbox_sign
from payments.models import SimulatedRefund, SimulatedTrade
from tests.payments.browser import Browser
from tests.payments.contract import GatewayContract


class TestSandboxContract(GatewayContract):
    channel = "sandbox"

    def buyer_opens(self, start: PaymentStart, request: PaymentRequest):
        return Browser(self.site_url).get(start.url)

    def buyer_pays(self, start: PaymentStart, request: PaymentRequest) -> None:
        browser = Browser(self.site_url)
        cashier = browser.get(start.url)
        assert cashier.status_code == 200, cashier.text
        browser.submit(cashier, "/pay/")

    def backdate(self, out_trade_no: str, day: dt.date) -> None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
        trades = SimulatedTrade.objects.filter(gateway="sandbox", out_trade_no=out_trade_no)
        trades.update(paid_at=moment)
        SimulatedRefund.objects.filter(trade__in=trades).update(succeeded_at=moment)

    def forged_notification(self, out_trade_no: str, amount_fen: int) -> IncomingNotification:
        fields = {
            "merchant_id": "KPSANDBOX01",
            "out_trade_no": out_trade_no,
            "amount_fen": str(amount_fen),
            "trade_status": "SUCCESS",
        }
        fields["sign"] = sandbox_sign(fields, "a-key-that-is-not-the-merchants")
        return IncomingNotification(
            kind="payment", body=urlencode(fields).encode(), content_type="application/x-www-form-urlencoded"
        )

    def make_unreachable(self, settings) -> None:
        settings.SANDBOX_SERVER_URL = "http://127.0.0.1:9/sandbox/sandbox/"
