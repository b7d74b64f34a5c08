"""Replies from WeChat's API, checked by us (wechatpy checks none): a stand-in server answers each test's reply."""

from __future__ import annotations

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import (
    GatewayConfigurationError,
    GatewayRejected,
    GatewayResponseInvalid,
    GatewayUnavailable,
    PaymentRequest,
    RefundNotFound,
    RefundRequest,
    TradeAlreadyPaid,
    TradeNotFound,
)
from payments.models import Order, Payment
from payments.services.sync import payment_sync
from payments.simulators.wechat.protocol import is_signed_by, parse, render, signed
from tests.factories import PaymentFactory
from tests.payments.wechat.messages import OTHER_KEY

OUT_TRADE_NO = "KP20261122120000123456P01"


class StandIn:
    """What the stand-in for WeChat answers next, and what it was sent."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        self.delay = 0.0
        self.received: list[tuple[str, bytes]] = []

    def answer(self, fields: dict[str, str], *, key: str | None = None, sign_type: str = "MD5", sign: bool = True):
        """A reply with WeChat's envelope around `fields`, signed with `key` (the test API key by default)."""
        reply = {
            "return_code": "SUCCESS",
            "return_msg": "OK",
            "appid": django_settings.WECHAT_APP_ID,
            "mch_id": django_settings.WECHAT_MCH_ID,
            "nonce_str": "IITRi8Iabbblz1Jc",
            "result_code": "SUCCESS",
            **fields,
        }
        if sign:
            reply = signed(reply, key=key or django_settings.WECHAT_API_KEY, sign_type=sign_type)
        self.body = render(reply).encode()

    def error(self, err_code: str) -> None:
        self.answer({"result_code": "FAIL", "err_code": err_code, "err_code_des": "描述"})


@pytest.fixture
def wechat(settings):
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            stand_in.received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            time.sleep(stand_in.delay)
            try:
                self.send_response(stand_in.status)
                self.send_header("Content-Type", "text/xml")
                self.end_headers()
                self.wfile.write(stand_in.body)
            except BrokenPipeError:
                pass  # the client gave up waiting, as the timeout test wants

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.block_on_close = False  # a deliberately slow reply must not hold up the next test
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    settings.WECHAT_API_BASE_URL = f"http://127.0.0.1:{server.server_port}/"
    yield stand_in
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway(wechat):
    return gateway_get("wechat")


def paid_query_reply(**overrides: str) -> dict[str, str]:
    return {
        "out_trade_no": OUT_TRADE_NO,
        "trade_state": "SUCCESS",
        "total_fee": "1290",
        "transaction_id": "4200000925202611224997714292",
        "time_end": "20261122120501",
        "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        **overrides,
    }


# --- Replies we cannot trust ------------------------------------------------------------------


def test_reply_with_a_forged_signature_is_invalid(wechat, gateway):
    wechat.answer(paid_query_reply(), key=OTHER_KEY)

    with pytest.raises(GatewayResponseInvalid) as caught:
        gateway.query_payment(OUT_TRADE_NO)

    assert caught.value.code == "BAD_SIGNATURE"


def test_unsigned_reply_is_invalid(wechat, gateway):
    wechat.answer(paid_query_reply(), sign=False)

    with pytest.raises(GatewayResponseInvalid) as caught:
        gateway.query_payment(OUT_TRADE_NO)

    assert caught.value.code == "UNSIGNED"


def test_reply_signed_in_the_other_sign_type_is_invalid(wechat, gateway):
    wechat.answer(paid_query_reply(), sign_type="HMAC-SHA256")

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


def test_tampered_reply_is_invalid(wechat, gateway):
    wechat.answer(paid_query_reply(total_fee="1"))
    wechat.body = wechat.body.replace(b"<total_fee>1</total_fee>", b"<total_fee>129000</total_fee>")

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


@pytest.mark.parametrize(
    "body",
    [b"<html><body>502 Bad Gateway</body></html>", b"", b"SUCCESS", b"<!DOCTYPE xml><xml></xml>"],
    ids=["html", "empty", "text", "dtd"],
)
def test_reply_that_is_not_wechat_xml_is_invalid(wechat, gateway, body):
    wechat.body = body

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


def test_signed_reply_for_another_merchant_is_invalid(wechat, gateway):
    wechat.answer(paid_query_reply(mch_id="1999999999"))

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


def test_signed_reply_about_another_trade_is_invalid(wechat, gateway):
    wechat.answer(paid_query_reply(out_trade_no="KP20261122120000999999P01"))

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


def test_return_code_fail_with_a_forged_signature_is_invalid(wechat, gateway):
    wechat.body = render(signed({"return_code": "FAIL", "return_msg": "x"}, key=OTHER_KEY, sign_type="MD5")).encode()

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


@pytest.mark.django_db
def test_forged_paid_reply_changes_nothing_of_ours(wechat, gateway):
    payment = PaymentFactory(channel="wechat", method="native", out_trade_no=OUT_TRADE_NO, amount_fen=1290)
    wechat.answer(paid_query_reply(), key=OTHER_KEY)

    with pytest.raises(GatewayResponseInvalid):
        payment_sync(payment=payment)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING


@pytest.mark.django_db
def test_a_bad_reply_at_checkout_is_a_message_not_a_500(wechat, client, learner, course):
    wechat.body = b"<html>oops</html>"
    order = Order.objects.create(
        order_no="KP20261122120000123456",
        learner=learner,
        course=course,
        amount_fen=course.price_fen,
        expires_at=timezone.now() + dt.timedelta(minutes=30),
    )
    client.force_login(learner)

    response = client.post(f"/orders/{order.order_no}/pay/", {"method": "wechat:native"}, follow=True)

    assert response.status_code == 200
    assert "could not verify" in response.content.decode()
    assert Payment.objects.get(order=order).start_data == {}


# --- Transport ----------------------------------------------------------------------------------


def test_http_error_status_is_unavailable(wechat, gateway):
    wechat.status = 503

    with pytest.raises(GatewayUnavailable):
        gateway.query_payment(OUT_TRADE_NO)


def test_slow_reply_times_out_as_unavailable(wechat, settings):
    settings.GATEWAY_TIMEOUT_SECONDS = 0.2
    wechat.delay = 1.0
    wechat.answer(paid_query_reply())

    with pytest.raises(GatewayUnavailable) as caught:
        gateway_get("wechat").query_payment(OUT_TRADE_NO)

    assert caught.value.code == "NETWORK"


def test_unreadable_merchant_certificate_is_a_configuration_error(wechat, settings):
    settings.WECHAT_MCH_CERT = "/nonexistent/apiclient_cert.pem"

    with pytest.raises(GatewayConfigurationError) as caught:
        gateway_get("wechat").query_payment(OUT_TRADE_NO)

    assert caught.value.code == "CONFIG"


# --- Error codes --------------------------------------------------------------------------------


def test_orderquery_ordernotexist_is_trade_not_found(wechat, gateway):
    wechat.error("ORDERNOTEXIST")

    with pytest.raises(TradeNotFound):
        gateway.query_payment(OUT_TRADE_NO)


def test_closeorder_orderpaid_is_trade_already_paid(wechat, gateway):
    wechat.error("ORDERPAID")

    with pytest.raises(TradeAlreadyPaid):
        gateway.close_payment(OUT_TRADE_NO)


@pytest.mark.parametrize("err_code", ["ORDERCLOSED", "ORDERNOTEXIST"])
def test_closeorder_of_a_closed_or_unknown_trade_counts_as_closed(wechat, gateway, err_code):
    wechat.error(err_code)

    assert gateway.close_payment(OUT_TRADE_NO) is None


def test_refundquery_refundnotexist_is_refund_not_found(wechat, gateway):
    wechat.error("REFUNDNOTEXIST")

    with pytest.raises(RefundNotFound):
        gateway.query_refund(OUT_TRADE_NO, "KP20261122120000123456R01")


@pytest.mark.parametrize("err_code", ["SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "NOTENOUGH"])
def test_retryable_error_codes_are_unavailable(wechat, gateway, err_code):
    wechat.error(err_code)

    with pytest.raises(GatewayUnavailable) as caught:
        gateway.refund(refund_request())

    assert caught.value.code == err_code


def test_refusal_error_code_is_rejected_with_that_code(wechat, gateway):
    wechat.error("REFUND_FEE_MISMATCH")

    with pytest.raises(GatewayRejected) as caught:
        gateway.refund(refund_request())

    assert caught.value.code == "REFUND_FEE_MISMATCH"


def test_unsigned_return_code_fail_is_a_rejection(wechat, gateway):
    wechat.body = render({"return_code": "FAIL", "return_msg": "签名错误"}).encode()

    with pytest.raises(GatewayRejected) as caught:
        gateway.query_payment(OUT_TRADE_NO)

    assert caught.value.code == "FAIL"


def refund_request() -> RefundRequest:
    return RefundRequest(
        out_trade_no=OUT_TRADE_NO,
        out_refund_no="KP20261122120000123456R01",
        refund_fen=290,
        total_fen=1290,
        reason="test",
        notify_url="http://127.0.0.1/payments/notify/wechat/refund/",
    )


# --- Our requests -------------------------------------------------------------------------------


@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256"])
def test_every_request_is_signed_in_the_configured_sign_type(wechat, settings, sign_type):
    settings.WECHAT_SIGN_TYPE = sign_type
    wechat.answer(paid_query_reply(), sign_type=sign_type)

    gateway_get("wechat").query_payment(OUT_TRADE_NO)

    path, body = wechat.received[-1]
    fields = parse(body)
    assert path == "/pay/orderquery"
    assert fields["sign_type"] == sign_type
    assert is_signed_by(fields, key=settings.WECHAT_API_KEY, sign_type=sign_type)


def test_unified_order_sends_native_fen_product_ip_and_beijing_expiry(wechat, gateway):
    wechat.answer({"code_url": "weixin://wxpay/bizpayurl?pr=NwY5Mz9", "prepay_id": "wx1", "trade_type": "NATIVE"})
    expires_at = dt.datetime(2026, 11, 22, 4, 30, tzinfo=dt.UTC)

    start = gateway.start_payment(
        PaymentRequest(
            out_trade_no=OUT_TRADE_NO,
            amount_fen=1290,
            subject="Python 入门",
            method="native",
            notify_url="https://knowpay.example/payments/notify/wechat/",
            return_url="https://knowpay.example/orders/KP1/return/",
            expires_at=expires_at,
            client_ip="203.0.113.7",
            product_id="42",
        )
    )

    assert start.qr_content == "weixin://wxpay/bizpayurl?pr=NwY5Mz9"
    sent = parse(wechat.received[-1][1])
    assert sent["trade_type"] == "NATIVE"
    assert sent["total_fee"] == "1290"
    assert sent["product_id"] == "42"
    assert sent["spbill_create_ip"] == "203.0.113.7"
    assert sent["time_expire"] == "20261122123000"
    assert sent["body"] == "Python 入门"


def test_unified_order_reply_without_code_url_is_invalid(wechat, gateway):
    wechat.answer({"prepay_id": "wx1", "trade_type": "NATIVE"})

    with pytest.raises(GatewayResponseInvalid):
        gateway.start_payment(
            PaymentRequest(
                out_trade_no=OUT_TRADE_NO,
                amount_fen=1290,
                subject="x",
                method="native",
                notify_url="https://knowpay.example/n/",
                return_url="https://knowpay.example/r/",
                expires_at=timezone.now() + dt.timedelta(minutes=30),
                client_ip="127.0.0.1",
            )
        )


# --- Bills --------------------------------------------------------------------------------------

BILL = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2026-11-21 10:00:00,`wx0000000000000001,`1900000001,`0,`,`4200000925202611214997714292,"
    "`KP20261121095900000001P01,`oUpF8u,`NATIVE,`SUCCESS,`OTHERS,`CNY,`12.90,`0.00,`0,`0,`0.00,`0.00,`,`,"
    "`Python 入门,`,`0.08000,`0.60%,`12.90,`0.00,`\r\n"
    "`2026-11-21 11:00:00,`wx0000000000000001,`1900000001,`0,`,`4200000925202611214997714292,"
    "`KP20261121095900000001P01,`oUpF8u,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
    "`50300202611210000000000000001,`KP20261121095900000001R01,`2.90,`0.00,`ORIGINAL,`SUCCESS,"
    "`Python 入门,`,`-0.02000,`0.60%,`0.00,`2.90,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`2,`12.90,`2.90,`0.00,`0.06000,`12.90,`2.90\r\n"
)


def test_bill_rows_become_statement_entries_in_fen(wechat, gateway):
    wechat.body = BILL.encode()

    statement = gateway.fetch_statement(dt.date(2026, 11, 21))

    assert [(e.kind, e.out_trade_no, e.out_refund_no, e.amount_fen) for e in statement.entries] == [
        ("payment", "KP20261121095900000001P01", "", 1290),
        ("refund", "KP20261121095900000001P01", "KP20261121095900000001R01", 290),
    ]
    assert statement.entries[0].occurred_at == dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)
    # 手续费 "0.08000" kept on the payment, "-0.02000" given back with the refund.
    assert [e.fee_fen for e in statement.entries] == [8, 2]
    assert parse(wechat.received[-1][1])["bill_date"] == "20261121"


def test_bill_with_a_fee_below_a_fen_is_invalid(wechat, gateway):
    wechat.body = BILL.replace("`0.08000", "`0.07740").encode()

    with pytest.raises(GatewayResponseInvalid):
        gateway.fetch_statement(dt.date(2026, 11, 21))


def test_bill_whose_summary_disagrees_with_its_rows_is_invalid(wechat, gateway):
    wechat.body = BILL.replace("`2,`12.90", "`3,`12.90").encode()

    with pytest.raises(GatewayResponseInvalid):
        gateway.fetch_statement(dt.date(2026, 11, 21))


def test_bill_with_an_inexact_amount_is_invalid(wechat, gateway):
    wechat.body = BILL.replace("`0.60%,`12.90,", "`0.60%,`12.900,").encode()

    with pytest.raises(GatewayResponseInvalid):
        gateway.fetch_statement(dt.date(2026, 11, 21))


def test_no_bill_exist_is_an_empty_statement(wechat, gateway):
    wechat.body = render({"return_code": "FAIL", "return_msg": "No Bill Exist", "error_code": "20002"}).encode()

    statement = gateway.fetch_statement(dt.date(2026, 11, 21))

    assert statement.entries == ()


def test_bill_still_being_created_is_unavailable(wechat, gateway):
    wechat.body = render({"return_code": "FAIL", "return_msg": "Bill Creating", "error_code": "20003"}).encode()

    with pytest.raises(GatewayUnavailable):
        gateway.fetch_statement(dt.date(2026, 11, 21))
