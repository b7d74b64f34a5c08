"""The local WeChat Pay on its own: WeChat's XML, signatures, error codes, scan page, notifications, bills.

Its replies are checked with our gateway's protocol code, written independently: each side checks the other.
"""

import datetime as dt

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from payments.gateways.wechat.protocol import bill_parse, decrypt_req_info, verify, xml_fields
from payments.models import SimulatedNotification, SimulatedTrade
from payments.simulators.wechat import RETRY_SCHEDULE, is_acknowledged
from payments.simulators.wechat.protocol import beijing, parse, render, signed
from tests.payments.wechat.messages import OTHER_KEY

pytestmark = pytest.mark.django_db

BASE = "/sandbox/wechat/"
REFUND_NOTIFY = "http://127.0.0.1:8000/payments/notify/wechat/refund/"


@pytest.fixture
def call(client):
    """POST a signed v2 request to the local WeChat Pay; the reply's fields."""

    def post(endpoint: str, *, sign_type: str = "MD5", key: str | None = None, **fields: str) -> dict[str, str]:
        request = {
            "appid": settings.WECHAT_APP_ID,
            "mch_id": settings.WECHAT_MCH_ID,
            "nonce_str": "ibuaiVcKdpRxkhJA",
            "sign_type": sign_type,
            **fields,
        }
        body = render(signed(request, key=key or settings.WECHAT_API_KEY, sign_type=sign_type))
        response = client.post(BASE + endpoint, data=body, content_type="text/xml")
        assert response.status_code == 200
        return parse(response.content)

    return post


@pytest.fixture
def order(call):
    """Place a Native order; returns a function of the reply, so tests can vary the fields."""

    def place(out_trade_no: str = "KP20261122120000123456P01", **fields: str) -> dict[str, str]:
        request = {
            "body": "Python 入门",
            "out_trade_no": out_trade_no,
            "total_fee": "1290",
            "spbill_create_ip": "127.0.0.1",
            "notify_url": "http://127.0.0.1:8000/payments/notify/wechat/",
            "trade_type": "NATIVE",
            "product_id": "1",
            "time_expire": beijing(timezone.now() + dt.timedelta(minutes=30)),
            **fields,
        }
        return call("pay/unifiedorder", **request)

    return place


def code_of(reply: dict[str, str]) -> str:
    return reply["code_url"].rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def paid(order, client):
    reply = order()
    client.post(f"{BASE}scan/{code_of(reply)}/pay/")
    return SimulatedTrade.objects.get(gateway="wechat")


def refund(call, out_refund_no: str = "KP20261122120000123456R01", refund_fee: str = "290", **fields: str):
    return call(
        "secapi/pay/refund",
        out_trade_no="KP20261122120000123456P01",
        out_refund_no=out_refund_no,
        total_fee="1290",
        refund_fee=refund_fee,
        notify_url=REFUND_NOTIFY,
        **fields,
    )


# --- Requests it refuses ------------------------------------------------------------------------


def test_request_signed_with_another_key_is_refused_unsigned(call):
    reply = call("pay/orderquery", key=OTHER_KEY, out_trade_no="KP1")

    assert reply == {"return_code": "FAIL", "return_msg": "签名错误，请检查后再试"}  # noqa: RUF001 (WeChat's wording)


def test_request_declaring_hmac_but_signed_with_md5_is_refused(client):
    fields = {"appid": settings.WECHAT_APP_ID, "mch_id": settings.WECHAT_MCH_ID, "out_trade_no": "KP1"}
    body = render({**signed(fields, key=settings.WECHAT_API_KEY, sign_type="MD5"), "sign_type": "HMAC-SHA256"})

    reply = parse(client.post(BASE + "pay/orderquery", data=body, content_type="text/xml").content)

    assert reply["return_code"] == "FAIL"


@pytest.mark.parametrize(
    "body", [b"", b"out_trade_no=1", b'<!DOCTYPE xml [<!ENTITY a "1">]><xml><a>&a;</a></xml>'], ids=str
)
def test_request_that_is_not_wechat_xml_is_refused(client, body):
    reply = parse(client.post(BASE + "pay/orderquery", data=body, content_type="text/xml").content)

    assert reply == {"return_code": "FAIL", "return_msg": "XML格式错误"}


def test_get_is_refused(client):
    assert parse(client.get(BASE + "pay/orderquery").content)["return_code"] == "FAIL"


def test_request_for_another_appid_is_refused(call):
    reply = call("pay/orderquery", appid="wx9999999999999999", out_trade_no="KP1")

    assert reply["err_code"] == "APPID_MCHID_NOT_MATCH"


def test_simulator_is_not_served_outside_sandbox_mode(settings, client):
    settings.PAYMENTS_SANDBOX = False

    assert client.post(BASE + "pay/orderquery", data=b"<xml/>", content_type="text/xml").status_code == 404


# --- Replies ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256"])
def test_replies_are_signed_in_the_requests_sign_type(order, sign_type):
    reply = order(sign_type=sign_type)

    verify(reply, key=settings.WECHAT_API_KEY, sign_type=sign_type)
    assert (reply["return_code"], reply["result_code"], reply["trade_type"]) == ("SUCCESS", "SUCCESS", "NATIVE")


# --- pay/unifiedorder ---------------------------------------------------------------------------


def test_unified_order_returns_a_code_url_of_its_scan_page(order):
    reply = order()

    assert reply["code_url"].startswith(f"{settings.SITE_URL}/sandbox/wechat/scan/")
    assert reply["prepay_id"].startswith("wx")


def test_unified_order_again_with_the_same_parameters_returns_the_same_code_url(order):
    first = order()

    again = order(time_start=beijing(timezone.now()))

    assert (again["code_url"], again["prepay_id"]) == (first["code_url"], first["prepay_id"])
    assert SimulatedTrade.objects.count() == 1


def test_unified_order_again_with_another_amount_is_refused(order):
    order()

    reply = order(total_fee="1")

    assert (reply["result_code"], reply["err_code"]) == ("FAIL", "INVALID_REQUEST")
    assert SimulatedTrade.objects.get().amount_fen == 1290


def test_unified_order_for_a_paid_trade_is_orderpaid(order, paid):
    assert order()["err_code"] == "ORDERPAID"


def test_unified_order_expiring_within_five_minutes_is_refused(order):
    reply = order(time_expire=beijing(timezone.now() + dt.timedelta(minutes=4)))

    assert reply["err_code"] == "INVALID_REQUEST"
    assert not SimulatedTrade.objects.exists()


def test_unified_order_of_another_trade_type_is_noauth(order):
    assert order(trade_type="APP")["err_code"] == "NOAUTH"


def test_unified_order_without_a_product_id_lacks_params(order):
    assert order(product_id="")["err_code"] == "LACK_PARAMS"


@pytest.mark.parametrize("total_fee", ["0", "-1", "12.90", "abc"])
def test_unified_order_with_a_bad_total_fee_is_refused(order, total_fee):
    assert order(total_fee=total_fee) == {"return_code": "FAIL", "return_msg": "invalid total_fee"}


# --- pay/orderquery and pay/closeorder ----------------------------------------------------------


def test_query_of_an_unknown_trade_is_ordernotexist(call):
    assert call("pay/orderquery", out_trade_no="KP1")["err_code"] == "ORDERNOTEXIST"


def test_query_of_an_unpaid_trade_is_notpay_with_its_amount(order, call):
    order()

    reply = call("pay/orderquery", out_trade_no="KP20261122120000123456P01")

    assert (reply["trade_state"], reply["total_fee"]) == ("NOTPAY", "1290")
    assert "transaction_id" not in reply


def test_query_after_the_order_expired_is_closed(order, call):
    order()
    SimulatedTrade.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert call("pay/orderquery", out_trade_no="KP20261122120000123456P01")["trade_state"] == "CLOSED"


def test_close_in_the_first_five_minutes_is_refused(order, call):
    order()

    reply = call("pay/closeorder", out_trade_no="KP20261122120000123456P01")

    assert (reply["result_code"], reply["err_code"]) == ("FAIL", "INVALID_REQUEST")
    assert SimulatedTrade.objects.get().status == SimulatedTrade.Status.WAITING


def test_close_after_five_minutes_closes_the_trade(order, call):
    order()
    SimulatedTrade.objects.update(created_at=F("created_at") - dt.timedelta(minutes=5, seconds=1))

    assert call("pay/closeorder", out_trade_no="KP20261122120000123456P01")["result_code"] == "SUCCESS"
    assert call("pay/closeorder", out_trade_no="KP20261122120000123456P01")["err_code"] == "ORDERCLOSED"


def test_close_of_a_paid_trade_is_orderpaid_even_in_its_first_minutes(paid, call):
    assert call("pay/closeorder", out_trade_no=paid.out_trade_no)["err_code"] == "ORDERPAID"


# --- The scan page and the payment notification ------------------------------------------------


def test_scan_page_shows_the_amount_with_pay_and_cancel(order, client):
    page = client.get(f"{BASE}scan/{code_of(order())}/").content.decode()

    assert "¥12.90" in page
    assert "Python 入门" in page
    assert ">Pay</button>" in page
    assert ">Cancel</button>" in page


def test_unknown_code_is_not_found(client):
    assert client.get(f"{BASE}scan/nosuchcode/").status_code == 404


@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256"])
def test_paying_queues_a_notification_signed_in_the_orders_sign_type(order, client, sign_type):
    client.post(f"{BASE}scan/{code_of(order(sign_type=sign_type))}/pay/")

    notification = SimulatedNotification.objects.get()
    fields = xml_fields(notification.body.encode())
    verify(fields, key=settings.WECHAT_API_KEY, sign_type=sign_type)
    trade = SimulatedTrade.objects.get()
    assert notification.url == "http://127.0.0.1:8000/payments/notify/wechat/"
    assert (fields["result_code"], fields["total_fee"], fields["out_trade_no"]) == (
        "SUCCESS",
        "1290",
        trade.out_trade_no,
    )
    assert (fields["transaction_id"], fields["openid"]) == (trade.trade_no, trade.buyer_id)
    assert fields["time_end"] == beijing(trade.paid_at)


def test_paying_twice_is_refused(paid, client):
    response = client.post(f"{BASE}scan/{paid.extra['code']}/pay/")

    assert response.status_code == 409
    assert SimulatedNotification.objects.count() == 1


def test_paying_after_the_order_expired_is_refused(order, client):
    code = code_of(order())
    SimulatedTrade.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert client.post(f"{BASE}scan/{code}/pay/").status_code == 409
    assert SimulatedTrade.objects.get().status == SimulatedTrade.Status.CLOSED
    assert not SimulatedNotification.objects.exists()


def test_cancel_leaves_the_trade_unpaid(order, client):
    client.post(f"{BASE}scan/{code_of(order())}/cancel/")

    assert SimulatedTrade.objects.get().status == SimulatedTrade.Status.WAITING
    assert not SimulatedNotification.objects.exists()


def test_only_an_xml_success_reply_acknowledges_a_notification():
    success = render({"return_code": "SUCCESS", "return_msg": "OK"})

    assert is_acknowledged(200, success)
    assert not is_acknowledged(500, success)
    assert not is_acknowledged(200, render({"return_code": "FAIL", "return_msg": "rejected"}))
    assert not is_acknowledged(200, "SUCCESS")


def test_retry_schedule_is_wechats_fifteen_retries_over_24_hours_4_minutes():
    assert len(RETRY_SCHEDULE) == 15
    assert sum(RETRY_SCHEDULE, dt.timedelta()) == dt.timedelta(hours=24, minutes=4)


# --- Refunds ------------------------------------------------------------------------------------


def test_refund_of_an_unpaid_trade_is_refused(order, call):
    order()

    assert refund(call)["err_code"] == "ERROR"


def test_refund_queues_a_notification_our_key_decrypts(paid, call):
    reply = refund(call)

    assert (reply["result_code"], reply["refund_fee"]) == ("SUCCESS", "290")
    notification = SimulatedNotification.objects.get(url=REFUND_NOTIFY)
    outer = xml_fields(notification.body.encode())
    assert "sign" not in outer
    info = decrypt_req_info(outer["req_info"], key=settings.WECHAT_API_KEY)
    assert (info["out_refund_no"], info["refund_fee"], info["refund_status"]) == (
        "KP20261122120000123456R01",
        "290",
        "SUCCESS",
    )
    assert info["refund_id"] == reply["refund_id"]


def test_refund_again_with_the_same_number_returns_the_same_refund(paid, call):
    first = refund(call)

    again = refund(call)

    assert again["refund_id"] == first["refund_id"]
    assert SimulatedTrade.objects.get().refunded_fen == 290


def test_refund_again_with_the_same_number_and_another_amount_is_a_mismatch(paid, call):
    refund(call)

    assert refund(call, refund_fee="300")["err_code"] == "REFUND_FEE_MISMATCH"


def test_refunds_above_what_was_paid_are_refused(paid, call):
    refund(call, refund_fee="1000")

    assert refund(call, "KP20261122120000123456R02", refund_fee="291")["err_code"] == "INVALID_REQUEST"
    assert refund(call, "KP20261122120000123456R02", refund_fee="290")["result_code"] == "SUCCESS"
    assert refund(call, "KP20261122120000123456R03", refund_fee="1")["err_code_des"] == "订单已全额退款"


def test_refund_above_the_total_is_refused_before_processing(paid, call):
    assert refund(call, refund_fee="1291") == {"return_code": "FAIL", "return_msg": "invalid refund_fee"}


def test_refund_query_reports_success_and_the_trade_turns_to_refund(paid, call):
    refund(call)

    reply = call("pay/refundquery", out_refund_no="KP20261122120000123456R01")

    assert (reply["refund_count"], reply["out_refund_no_0"], reply["refund_status_0"]) == (
        "1",
        "KP20261122120000123456R01",
        "SUCCESS",
    )
    assert call("pay/orderquery", out_trade_no=paid.out_trade_no)["trade_state"] == "REFUND"


def test_refund_query_of_an_unknown_refund_is_refundnotexist(call):
    assert call("pay/refundquery", out_refund_no="KP1R01")["err_code"] == "REFUNDNOTEXIST"


# --- Bills --------------------------------------------------------------------------------------


@pytest.fixture
def yesterday():
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def paid_and_refunded_yesterday(paid, call, yesterday):
    refund(call)
    moment = timezone.make_aware(dt.datetime.combine(yesterday, dt.time(12, 0)))
    SimulatedTrade.objects.update(paid_at=moment)
    paid.refunds.update(succeeded_at=moment + dt.timedelta(hours=1))
    return paid


def download(client, bill_date: str, bill_type: str = "ALL"):
    fields = {
        "appid": settings.WECHAT_APP_ID,
        "mch_id": settings.WECHAT_MCH_ID,
        "nonce_str": "x",
        "bill_date": bill_date,
        "bill_type": bill_type,
    }
    body = render(signed(fields, key=settings.WECHAT_API_KEY, sign_type="MD5"))
    return client.post(BASE + "pay/downloadbill", data=body, content_type="text/xml")


def test_all_bill_lists_payments_and_refunds_in_yuan(paid_and_refunded_yesterday, client, yesterday):
    text = download(client, f"{yesterday:%Y%m%d}").content.decode()

    lines = text.split("\r\n")
    assert lines[0].startswith("交易时间,公众账号ID,商户号,")
    assert lines[1].startswith(f"`{yesterday:%Y-%m-%d} 12:00:00,`{settings.WECHAT_APP_ID},`{settings.WECHAT_MCH_ID},")
    assert lines[3] == "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    assert lines[4] == "`2,`12.90,`2.90,`0.00,`0.06000,`12.90,`2.90"
    rows = bill_parse(text)
    assert [(row.status, row.amount_fen, row.out_refund_no) for row in rows] == [
        ("SUCCESS", 1290, ""),
        ("REFUND", 290, "KP20261122120000123456R01"),
    ]


@pytest.mark.parametrize(("bill_type", "rows"), [("SUCCESS", ["SUCCESS"]), ("REFUND", ["REFUND"])])
def test_success_and_refund_bills_list_only_their_kind(paid_and_refunded_yesterday, client, yesterday, bill_type, rows):
    text = download(client, f"{yesterday:%Y%m%d}", bill_type).content.decode()

    assert [row.status for row in bill_parse(text)] == rows


def test_day_without_transactions_has_no_bill(client, yesterday):
    reply = parse(download(client, f"{yesterday:%Y%m%d}").content)

    assert reply == {"return_code": "FAIL", "return_msg": "No Bill Exist", "error_code": "20002"}


@pytest.mark.parametrize("offset", [0, 1, -93])
def test_bill_of_today_the_future_or_over_three_months_ago_is_refused(client, offset):
    day = timezone.localdate() + dt.timedelta(days=offset)

    assert parse(download(client, f"{day:%Y%m%d}").content)["return_msg"] == "invalid bill_date"
