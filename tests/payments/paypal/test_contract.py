"""The gateway contract, run for PayPal against the local PayPal over real HTTP."""

import datetime as dt
import json

from django.utils import timezone

from payments.gateways.base import IncomingNotification, PaymentRequest, PaymentStart
from payments.models import Payment, SimulatedRefund, SimulatedTrade
from payments.services.sync import order_return_complete
from payments.simulators.paypal.webhooks import CERT_NAME
from tests.payments.browser import Browser
from tests.payments.contract import GatewayContract


class TestPaypalContract(GatewayContract):
    channel = "paypal"
    payment_fee_fen = 94  # 3.49 % of ¥12.90 rounded, plus 49 fen

    def buyer_opens(self, start: PaymentStart, request: PaymentRequest):
        page = Browser(self.site_url).get(start.url)
        assert page.status_code == 200, page.text
        return page

    def buyer_pays(self, start: PaymentStart, request: PaymentRequest) -> None:
        browser = Browser(self.site_url)
        browser.submit(browser.get(start.url), "/approve/", funding="balance")
        # Back on our return page, which captures the approved order.
        order_return_complete(order=Payment.objects.get(out_trade_no=request.out_trade_no).order)

    def backdate(self, out_trade_no: str, day: dt.date) -> None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
        trades = SimulatedTrade.objects.filter(gateway="paypal", extra__invoice_id=out_trade_no)
        trades.update(paid_at=moment)
        SimulatedRefund.objects.filter(trade__in=trades).update(succeeded_at=moment)

    def forged_notification(self, out_trade_no: str, amount_fen: int) -> IncomingNotification:
        event = {
            "id": "WH-FORGED",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource": {
                "id": "0FORGED",
                "status": "COMPLETED",
                "invoice_id": out_trade_no,
                "amount": {"currency_code": "CNY", "value": f"{amount_fen / 100:.2f}"},
            },
        }
        headers = {
            "HTTP_PAYPAL_AUTH_ALGO": "SHA256withRSA",
            "HTTP_PAYPAL_CERT_URL": f"{self.site_url}/sandbox/paypal/v1/notifications/certs/{CERT_NAME}",
            "HTTP_PAYPAL_TRANSMISSION_ID": "00000000-0000-0000-0000-000000000000",
            "HTTP_PAYPAL_TRANSMISSION_SIG": "Zm9yZ2Vk",
            "HTTP_PAYPAL_TRANSMISSION_TIME": "2026-11-22T12:00:00Z",
        }
        return IncomingNotification(
            kind="payment", body=json.dumps(event).encode(), content_type="application/json", headers=headers
        )

    def make_unreachable(self, settings) -> None:
        settings.PAYPAL_API_BASE = "http://127.0.0.1:9"
