"""The gateway contract, run for Stripe against the local Stripe over real HTTP."""

import datetime as dt

from django.utils import timezone

from payments.gateways.base import IncomingNotification, PaymentRequest, PaymentStart
from payments.models import SimulatedRefund, SimulatedTrade
from tests.payments.browser import Browser
from tests.payments.contract import GatewayContract
from tests.payments.stripe.helpers import session_completed_event, signature_header


class TestStripeContract(GatewayContract):
    channel = "stripe"
    payment_fee_fen = 67  # 2.9 % of ¥12.90 rounded, plus 30 fen

    def buyer_opens(self, start: PaymentStart, request: PaymentRequest):
        page = Browser(self.site_url).get(start.url)
        assert page.status_code == 200, page.text
        return page

    def buyer_pays(self, start: PaymentStart, request: PaymentRequest) -> None:
        browser = Browser(self.site_url)
        page = browser.get(start.url)
        browser.submit(page, "/pay/")
        assert SimulatedTrade.objects.get(gateway="stripe", trade_no=start.gateway_ref).status == "paid"

    def backdate(self, out_trade_no: str, day: dt.date) -> None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
        trades = SimulatedTrade.objects.filter(gateway="stripe", extra__client_reference_id=out_trade_no)
        trades.update(paid_at=moment)
        SimulatedRefund.objects.filter(trade__in=trades).update(succeeded_at=moment)

    def forged_notification(self, out_trade_no: str, amount_fen: int) -> IncomingNotification:
        body = session_completed_event(out_trade_no=out_trade_no, amount=amount_fen)
        header = signature_header(body, secret="whsec_not_the_endpoints_secret")
        return IncomingNotification(
            kind="payment",
            body=body.encode(),
            content_type="application/json",
            headers={"HTTP_STRIPE_SIGNATURE": header},
        )

    def make_unreachable(self, settings) -> None:
        settings.STRIPE_API_BASE = "http://127.0.0.1:9"
