"""The gateway contract, run for WeChat Pay against the local WeChat Pay over real HTTP."""

import datetime as dt

from django.db.models import F
from django.utils import timezone

from payments.gateways.base import IncomingNotification, PaymentRequest, PaymentStart
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.wechat.protocol import render, signed
from tests.payments.browser import Browser
from tests.payments.contract import GatewayContract


class TestWechatContract(GatewayContract):
    channel = "wechat"
    payment_fee_fen = 8  # 0.6 % of ¥12.90, rounded half up

    def buyer_opens(self, start: PaymentStart, request: PaymentRequest):
        page = Browser(self.site_url).get(start.qr_content)
        assert page.status_code == 200, page.text
        # The local WeChat Pay refuses closeorder in a trade's first five minutes, as WeChat does;
        # the buyer has been looking at the code for that long.
        SimulatedTrade.objects.filter(gateway="wechat", out_trade_no=request.out_trade_no).update(
            created_at=F("created_at") - dt.timedelta(minutes=6)
        )
        return page

    def buyer_pays(self, start: PaymentStart, request: PaymentRequest) -> None:
        browser = Browser(self.site_url)
        scan_page = browser.get(start.qr_content)
        assert scan_page.status_code == 200, scan_page.text
        paid = browser.submit(scan_page, "/pay/")
        assert paid.status_code == 200, paid.text

    def backdate(self, out_trade_no: str, day: dt.date) -> None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
        trades = SimulatedTrade.objects.filter(gateway="wechat", out_trade_no=out_trade_no)
        trades.update(paid_at=moment)
        SimulatedRefund.objects.filter(trade__in=trades).update(succeeded_at=moment)

    def forged_notification(self, out_trade_no: str, amount_fen: int) -> IncomingNotification:
        fields = {
            "return_code": "SUCCESS",
            "result_code": "SUCCESS",
            "appid": "wx0000000000000001",
            "mch_id": "1900000001",
            "nonce_str": "forgedforgedforged",
            "out_trade_no": out_trade_no,
            "transaction_id": "4200000000000000000000000000",
            "total_fee": str(amount_fen),
            "time_end": "20261122120000",
        }
        body = render(signed(fields, key="NOTtheapikeyNOTtheapikeyNOTthe00", sign_type="MD5"))
        return IncomingNotification(kind="payment", body=body.encode(), content_type="text/xml")

    def make_unreachable(self, settings) -> None:
        settings.WECHAT_API_BASE_URL = "http://127.0.0.1:9/"
