"""The gateway against the local Alipay over real HTTP: the protocol's edge cases, end to end
through the real SDK, the local Alipay's own pages and its replies.
"""

import base64
import datetime as dt
import secrets
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import (
    GatewayRejected,
    RefundNotFound,
    RefundRequest,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeStatus,
    TransferRequest,
)
from payments.models import SimulatedTrade
from tests.payments.alipay.helpers import KEYS, notification_content, payment_request, stranger_key
from tests.payments.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)


def new_out_trade_no() -> str:
    return f"KP{timezone.localtime():%Y%m%d%H%M%S}{secrets.randbelow(10**6):06d}P01"


@pytest.fixture
def browser(gateway_site):
    return Browser(gateway_site.url)


@pytest.fixture
def started(live_alipay, gateway_site):
    """Start a payment by `method`; returns (out_trade_no, PaymentStart)."""

    def start(method: str, **kwargs):
        out_trade_no = new_out_trade_no()
        return out_trade_no, live_alipay.start_payment(
            payment_request(out_trade_no, method, site_url=gateway_site.url, **kwargs)
        )

    return start


@pytest.fixture
def paid(started, browser):
    out_trade_no, start = started("page")
    browser.submit(browser.get(start.url), "/pay/")
    return out_trade_no


def stranger_pem() -> str:
    key = stranger_key()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def refund_request(out_trade_no: str, refund_fen: int, out_refund_no: str = "R01") -> RefundRequest:
    return RefundRequest(
        out_trade_no=out_trade_no,
        out_refund_no=f"{out_trade_no}{out_refund_no}",
        refund_fen=refund_fen,
        total_fen=1290,
        reason="test",
        notify_url="",
    )


def transfer_request(out_biz_no: str = "PO000000000001", **overrides) -> TransferRequest:
    fields = {
        "out_biz_no": out_biz_no,
        "amount_fen": 10000,
        "payee_account": "creator@example.com",
        "payee_name": "张三",
        "remark": "KnowPay payout",
        **overrides,
    }
    return TransferRequest(**fields)


# --- QR pay ---------------------------------------------------------------------------------


def test_qr_content_is_the_url_of_the_local_alipay_scan_page(started, gateway_site):
    _, start = started("qr")

    assert start.qr_content.startswith(f"{gateway_site.url}/sandbox/alipay/qr/")


def test_code_nobody_scanned_yet_is_unknown_to_alipay(started, live_alipay):
    out_trade_no, _ = started("qr")

    with pytest.raises(TradeNotFound):
        live_alipay.query_payment(out_trade_no)


def test_scanning_the_code_creates_the_trade_waiting_for_payment(started, live_alipay, browser):
    out_trade_no, start = started("qr")

    assert browser.get(start.qr_content).status_code == 200

    assert live_alipay.query_payment(out_trade_no).status == TradeStatus.WAITING


def test_paying_on_the_scan_page_pays_the_trade(started, live_alipay, browser):
    out_trade_no, start = started("qr")

    done = browser.submit(browser.get(start.qr_content), "/pay/")

    assert "Payment successful" in done.text
    assert live_alipay.query_payment(out_trade_no).status == TradeStatus.PAID


def test_precreating_again_gives_the_same_code(started, live_alipay, gateway_site):
    out_trade_no, first = started("qr")

    again = live_alipay.start_payment(payment_request(out_trade_no, "qr", site_url=gateway_site.url))

    assert again.qr_content == first.qr_content


def test_precreating_again_with_another_amount_is_refused(started, live_alipay, gateway_site):
    out_trade_no, _ = started("qr")

    with pytest.raises(GatewayRejected) as refused:
        live_alipay.start_payment(payment_request(out_trade_no, "qr", amount_fen=1, site_url=gateway_site.url))

    assert refused.value.code == "ACQ.CONTEXT_INCONSISTENT"


def test_precreating_a_paid_trade_is_trade_already_paid(paid, live_alipay, gateway_site):
    with pytest.raises(TradeAlreadyPaid):
        live_alipay.start_payment(payment_request(paid, "qr", site_url=gateway_site.url))


def test_closing_a_code_nobody_scanned_does_not_stop_a_later_payment(started, live_alipay, browser):
    # As at Alipay: the close finds no trade, and the code stays payable until it expires.
    out_trade_no, start = started("qr")
    live_alipay.close_payment(out_trade_no)

    browser.submit(browser.get(start.qr_content), "/pay/")

    assert live_alipay.query_payment(out_trade_no).status == TradeStatus.PAID


# --- Page pay -------------------------------------------------------------------------------


def test_cashier_refuses_a_request_signed_with_a_key_other_than_the_configured_one(gateway_site, browser, settings):
    configured = settings.ALIPAY_APP_PRIVATE_KEY
    settings.ALIPAY_APP_PRIVATE_KEY = stranger_pem()
    start = gateway_get("alipay").start_payment(payment_request(new_out_trade_no(), "page", site_url=gateway_site.url))
    settings.ALIPAY_APP_PRIVATE_KEY = configured

    cashier = browser.get(start.url)

    assert cashier.status_code == 400
    assert "isv.invalid-signature" in cashier.text


def test_cashier_refuses_an_amount_changed_in_the_url(started, browser):
    _, start = started("page")

    cashier = browser.get(start.url.replace("12.90", "0.01"))

    assert cashier.status_code == 400
    assert "isv.invalid-signature" in cashier.text


def test_cashier_for_a_paid_trade_says_it_is_paid(started, browser):
    _, start = started("page")
    browser.submit(browser.get(start.url), "/pay/")

    again = browser.get(start.url)

    assert again.status_code == 400
    assert "ACQ.TRADE_HAS_SUCCESS" in again.text


def test_return_url_carries_parameters_signed_by_alipay(started, browser):
    out_trade_no, start = started("page")

    landing = browser.submit(browser.get(start.url), "/pay/")

    params = dict(parse_qsl(urlsplit(landing.history[0].headers["Location"]).query))
    assert (params["method"], params["out_trade_no"], params["total_amount"]) == (
        "alipay.trade.page.pay.return",
        out_trade_no,
        "12.90",
    )
    public_key = serialization.load_pem_public_key((KEYS / "TEST_ONLY_alipay_platform_public.pem").read_bytes())
    public_key.verify(
        base64.b64decode(params["sign"]), notification_content(params), padding.PKCS1v15(), hashes.SHA256()
    )


def test_cancel_at_the_cashier_leaves_the_trade_waiting(started, live_alipay, browser):
    out_trade_no, start = started("page")

    browser.submit(browser.get(start.url), "/cancel/")

    assert live_alipay.query_payment(out_trade_no).status == TradeStatus.WAITING


# --- Close ----------------------------------------------------------------------------------


def test_closing_a_closed_trade_again_is_not_an_error(started, live_alipay, browser):
    out_trade_no, start = started("page")
    browser.get(start.url)
    live_alipay.close_payment(out_trade_no)

    live_alipay.close_payment(out_trade_no)

    assert live_alipay.query_payment(out_trade_no).status == TradeStatus.CLOSED


def test_trade_past_its_time_expire_is_closed_at_alipay(started, live_alipay, browser):
    out_trade_no, start = started("page")
    browser.get(start.url)
    SimulatedTrade.objects.filter(out_trade_no=out_trade_no).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert live_alipay.query_payment(out_trade_no).status == TradeStatus.CLOSED


def test_time_expire_is_sent_in_beijing_time(started, browser):
    out_trade_no, start = started("page")
    browser.get(start.url)

    trade = SimulatedTrade.objects.get(out_trade_no=out_trade_no)
    assert abs(trade.expires_at - (timezone.now() + dt.timedelta(minutes=30))) < dt.timedelta(seconds=5)


# --- Refunds --------------------------------------------------------------------------------


def test_refund_number_reused_with_another_amount_reports_the_original_refund(paid, live_alipay):
    live_alipay.refund(refund_request(paid, 100))

    again = live_alipay.refund(refund_request(paid, 200))

    assert again.refund_fen == 100


def test_query_of_a_refund_alipay_never_received_is_refund_not_found(paid, live_alipay):
    with pytest.raises(RefundNotFound):
        live_alipay.query_refund(paid, f"{paid}R99")


def test_query_of_a_refund_of_an_unknown_trade_is_refund_not_found(live_alipay):
    with pytest.raises(RefundNotFound):
        live_alipay.query_refund(new_out_trade_no(), "R01")


def test_full_refund_closes_the_trade_at_alipay(paid, live_alipay):
    live_alipay.refund(refund_request(paid, 1290))

    assert live_alipay.query_payment(paid).status == TradeStatus.CLOSED


def test_refund_after_a_full_refund_is_rejected(paid, live_alipay):
    live_alipay.refund(refund_request(paid, 1290))

    with pytest.raises(GatewayRejected) as refused:
        live_alipay.refund(refund_request(paid, 1, "R02"))

    assert refused.value.code == "ACQ.TRADE_HAS_CLOSE"


def test_refund_above_what_is_left_names_alipays_code(paid, live_alipay):
    with pytest.raises(GatewayRejected) as refused:
        live_alipay.refund(refund_request(paid, 1291))

    assert refused.value.code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"


# --- Bill -----------------------------------------------------------------------------------


def test_bill_of_today_does_not_exist_yet(live_alipay):
    with pytest.raises(GatewayRejected) as refused:
        live_alipay.fetch_statement(timezone.localdate())

    assert refused.value.code == "isp.bill_not_exist"


def test_bill_of_a_quiet_day_is_empty(live_alipay):
    statement = live_alipay.fetch_statement(timezone.localdate() - dt.timedelta(days=400))

    assert statement.entries == ()


# --- Transfers ------------------------------------------------------------------------------


def test_transfer_to_an_alipay_user_id_succeeds(live_alipay):
    result = live_alipay.transfer(transfer_request(payee_account="2088102177846880", payee_name=""))

    assert result.succeeded
    assert result.transfer_no


def test_transfer_number_reused_for_another_amount_is_refused(live_alipay):
    live_alipay.transfer(transfer_request())

    with pytest.raises(GatewayRejected) as refused:
        live_alipay.transfer(transfer_request(amount_fen=20000))

    assert refused.value.code == "PAYMENT_INFO_INCONSISTENCY"


def test_transfer_to_an_account_that_does_not_exist_is_refused(live_alipay):
    with pytest.raises(GatewayRejected) as refused:
        live_alipay.transfer(transfer_request(payee_account="not-an-account"))

    assert refused.value.code == "PAYEE_NOT_EXIST"


def test_transfer_below_ten_fen_is_refused(live_alipay):
    with pytest.raises(GatewayRejected) as refused:
        live_alipay.transfer(transfer_request(amount_fen=9))

    assert refused.value.code == "EXCEED_LIMIT_SM_MIN_AMOUNT"


# --- The gateway's own checks ---------------------------------------------------------------


def test_a_custom_app_id_seller_id_and_app_key_work_end_to_end_in_sandbox_mode(settings, gateway_site, browser):
    """The local Alipay follows ALIPAY_* as the local WeChat Pay follows WECHAT_*: QR pay, query, refund,
    close and the bill all work for an app id, seller id and key other than the defaults."""
    settings.ALIPAY_APP_ID = "2021009876543210"
    settings.ALIPAY_SELLER_ID = "2088009876543210"
    settings.ALIPAY_APP_PRIVATE_KEY = stranger_pem()
    alipay = gateway_get("alipay")
    out_trade_no, unpaid = new_out_trade_no(), new_out_trade_no()

    alipay.start_payment(payment_request(out_trade_no, "qr", site_url=gateway_site.url))
    token = SimulatedTrade.objects.get(out_trade_no=out_trade_no).extra["qr_token"]
    browser.submit(browser.get(f"/sandbox/alipay/qr/{token}/"), "/pay/")
    paid = alipay.query_payment(out_trade_no)
    refund = alipay.refund(refund_request(out_trade_no, 290))
    alipay.start_payment(payment_request(unpaid, "qr", site_url=gateway_site.url))
    browser.get(f"/sandbox/alipay/qr/{SimulatedTrade.objects.get(out_trade_no=unpaid).extra['qr_token']}/")
    alipay.close_payment(unpaid)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    noon = timezone.make_aware(dt.datetime.combine(yesterday, dt.time(12, 0)))
    SimulatedTrade.objects.filter(out_trade_no=out_trade_no).update(paid_at=noon)
    SimulatedTrade.objects.get(out_trade_no=out_trade_no).refunds.update(succeeded_at=noon)
    bill = alipay.fetch_statement(yesterday)

    assert (paid.status, refund.refund_fen) == (TradeStatus.PAID, 290)
    assert SimulatedTrade.objects.get(out_trade_no=unpaid).status == SimulatedTrade.Status.CLOSED
    assert [(e.kind, e.out_trade_no, e.amount_fen) for e in bill.entries] == [
        ("payment", out_trade_no, 1290),
        ("refund", out_trade_no, 290),
    ]
    assert set(SimulatedTrade.objects.values_list("merchant_id", flat=True)) == {"2021009876543210"}
