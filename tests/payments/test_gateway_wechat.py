"""The gateway contract, run for WeChat Pay against the local WeChat Pay over real HTTP."""

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db.models import F
from django.utils import timezone

from payments.gateways.base import IncomingNotification, PaymentRequest, PaymentStart, StartKind
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.wechat.protocol import render, signed
from tests.payments.browser import Browser
from tests.payments.contract import GatewayContract
from tests.payments.user_agents import IPHONE, WECHAT


class TestWechatContract(GatewayContract):
    channel = "wechat"
    payment_fee_fen = 8  # 0.6 % of ¥12.90, rounded half up

    @pytest.fixture(autouse=True)
    def _wechat_user(self, gateway_site):
        # One person throughout a test: who authorises inside WeChat is who pays there (JSAPI).
        self.wechat = Browser(gateway_site.url)
        self.wechat.session.headers["User-Agent"] = WECHAT

    def _buyer_page(self, start: PaymentStart, request: PaymentRequest):
        """The page the buyer pays on: the scan page of a code, or the H5 page of an mweb_url."""
        browser = Browser(self.site_url)
        if start.kind == StartKind.REDIRECT:
            # A phone's browser, leaving our order page for the mweb_url (WeChat checks the Referer).
            browser.session.headers["User-Agent"] = IPHONE
            page = browser.get(start.url, headers={"Referer": request.quit_url})
        else:
            page = browser.get(start.qr_content)
        assert page.status_code == 200, page.text
        return browser, page

    def buyer_opens(self, start: PaymentStart, request: PaymentRequest):
        if start.kind == StartKind.BRIDGE:
            # WeChat's payment sheet opens once the parameters check out.
            sheet = self.wechat.session.post(f"{self.site_url}/sandbox/wechat/jsapi/prepare", json=start.bridge_params)
            assert "amount" in sheet.json(), sheet.text
            return sheet
        _, page = self._buyer_page(start, request)
        # The local WeChat Pay refuses closeorder in a trade's first five minutes, as WeChat does;
        # the buyer has been looking at the code for that long.
        SimulatedTrade.objects.filter(gateway="wechat", out_trade_no=request.out_trade_no).update(
            created_at=F("created_at") - dt.timedelta(minutes=6)
        )
        return page

    def buyer_abandons(self, start: PaymentStart, request: PaymentRequest) -> None:
        if start.kind == StartKind.REDIRECT:
            browser, page = self._buyer_page(start, request)
            back = browser.submit(page, "/cancel/", follow=False)
            assert back.headers["Location"] == request.return_url, back.text
            return
        self.buyer_opens(start, request)

    def buyer_pays(self, start: PaymentStart, request: PaymentRequest) -> None:
        if start.kind == StartKind.BRIDGE:
            reply = self.wechat.session.post(f"{self.site_url}/sandbox/wechat/jsapi/pay", json=start.bridge_params)
            assert reply.json() == {"err_msg": "get_brand_wcpay_request:ok"}, reply.text
            return
        browser, page = self._buyer_page(start, request)
        paid = browser.submit(page, "/pay/")
        assert paid.status_code == 200, paid.text

    def payer_authorizes(self, url: str) -> str:
        reply = self.wechat.get(url, allow_redirects=False)
        assert reply.status_code == 302, reply.text
        back = dict(parse_qsl(urlsplit(reply.headers["Location"]).query))
        assert back["state"] == "contract"
        return back["code"]

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
