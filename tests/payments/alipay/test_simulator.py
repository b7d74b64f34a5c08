"""The local Alipay's side of the protocol, spoken to directly (Django test client, no network)."""

import base64
import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.urls import reverse
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import IncomingNotification, TradeStatus
from payments.models import SimulatedNotification
from payments.simulators import alipay as local_alipay
from tests.payments.alipay.helpers import APP_ID, KEYS, app_key, payment_request, signature, stranger_key

pytestmark = pytest.mark.django_db
GATEWAY = "/sandbox/alipay/gateway.do"


def signed_params(method: str, biz: dict, *, key=None, **overrides: str) -> dict[str, str]:
    params = {
        "app_id": APP_ID,
        "method": method,
        "charset": "utf-8",
        "format": "JSON",
        "sign_type": "RSA2",
        "timestamp": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
        "version": "1.0",
        "biz_content": json.dumps(biz, ensure_ascii=False),
        **overrides,
    }
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v != "")
    params["sign"] = signature(content.encode(), key or app_key())
    return params


def verified_reply(response, node: str) -> dict:
    """The inner object of a reply, after checking Alipay's signature over its exact bytes."""
    text = response.content.decode()
    inner = re.search(rf'"{node}":(\{{.*\}}),"sign":"', text).group(1)
    public_key = serialization.load_pem_public_key((KEYS / "TEST_ONLY_alipay_platform_public.pem").read_bytes())
    public_key.verify(base64.b64decode(json.loads(text)["sign"]), inner.encode(), padding.PKCS1v15(), hashes.SHA256())
    return json.loads(inner)


def test_local_alipay_is_not_there_outside_sandbox_mode(client, settings):
    # Resolve once first: the URLconf mounts the simulators when it is imported, in sandbox mode.
    url = reverse("alipay-gateway")
    settings.PAYMENTS_SANDBOX = False

    assert client.post(url, signed_params("alipay.trade.query", {"out_trade_no": "X"})).status_code == 404


def test_request_without_a_method_gets_a_signed_error_response(client):
    reply = verified_reply(client.post(GATEWAY, {"app_id": APP_ID}), "error_response")

    assert (reply["code"], reply["sub_code"]) == ("40001", "isv.missing-method")


def test_unknown_method_is_refused(client):
    reply = verified_reply(client.post(GATEWAY, signed_params("alipay.trade.pay.magic", {})), "error_response")

    assert (reply["code"], reply["sub_code"]) == ("40002", "isv.invalid-method")


@pytest.mark.parametrize(
    ("overrides", "code", "sub_code"),
    [
        ({"sign_type": "RSA"}, "40002", "isv.invalid-signature-type"),
        ({"timestamp": "2026/11/22 12:00"}, "40002", "isv.invalid-timestamp"),
        ({"charset": "GBK"}, "40002", "isv.invalid-charset"),
        ({"app_id": ""}, "40001", "isv.missing-app-id"),
    ],
)
def test_system_parameter_errors_use_alipays_public_codes(client, overrides, code, sub_code):
    params = signed_params("alipay.trade.query", {"out_trade_no": "X"}, **overrides)

    reply = verified_reply(client.post(GATEWAY, params), "alipay_trade_query_response")

    assert (reply["code"], reply["msg"], reply["sub_code"]) == (
        code,
        local_alipay.protocol.PUBLIC_MESSAGES[code],
        sub_code,
    )


def test_request_from_an_app_other_than_the_configured_one_is_refused(client):
    params = signed_params("alipay.trade.query", {"out_trade_no": "X"}, app_id="2021999999999999")

    reply = verified_reply(client.post(GATEWAY, params), "alipay_trade_query_response")

    assert reply["sub_code"] == "isv.invalid-app-id"


def test_request_signed_with_a_key_other_than_the_configured_app_key_is_refused(client):
    params = signed_params("alipay.trade.query", {"out_trade_no": "X"}, key=stranger_key())

    reply = verified_reply(client.post(GATEWAY, params), "alipay_trade_query_response")

    assert reply["sub_code"] == "isv.invalid-signature"


def test_request_without_a_signature_is_refused(client):
    params = signed_params("alipay.trade.query", {"out_trade_no": "X"})
    del params["sign"]

    reply = verified_reply(client.post(GATEWAY, params), "alipay_trade_query_response")

    assert reply["sub_code"] == "isv.missing-signature"


def test_system_parameters_in_the_query_string_and_biz_content_in_the_form_are_accepted(client):
    params = signed_params("alipay.trade.query", {"out_trade_no": "KP-unknown"})
    biz = params.pop("biz_content")
    query = "&".join(f"{k}={v}" for k, v in params.items())

    response = client.post(f"{GATEWAY}?{query.replace('+', '%2B')}", {"biz_content": biz})

    reply = verified_reply(response, "alipay_trade_query_response")
    assert (reply["code"], reply["sub_code"]) == ("40004", "ACQ.TRADE_NOT_EXIST")


def test_notification_of_a_payment_carries_alipays_fields_and_our_gateway_accepts_it(client):
    start = gateway_get("alipay").start_payment(payment_request("KP20261122000000000001P01", "page"))
    url = urlsplit(start.url)
    cashier = client.get(f"{url.path}?{url.query}")
    pay_action = re.search(r'action="([^"]*/pay/)"', cashier.content.decode()).group(1)

    client.post(pay_action)

    body = SimulatedNotification.objects.get(gateway="alipay").body
    fields = dict(parse_qsl(body))
    for name in ("notify_id", "notify_time", "notify_type", "trade_no", "buyer_id", "gmt_payment", "receipt_amount"):
        assert fields[name], name
    assert (fields["trade_status"], fields["total_amount"], fields["sign_type"]) == ("TRADE_SUCCESS", "12.90", "RSA2")
    assert (fields["app_id"], fields["seller_id"], fields["charset"], fields["version"]) == (
        APP_ID,
        "2088000000000001",
        "utf-8",
        "1.0",
    )
    event = gateway_get("alipay").parse_notification(
        IncomingNotification(kind="payment", body=body.encode(), content_type="application/x-www-form-urlencoded")
    )
    assert (event.status, event.amount_fen, event.out_trade_no) == (TradeStatus.PAID, 1290, fields["out_trade_no"])


@pytest.mark.parametrize(
    ("status", "body", "acknowledged"),
    [
        (200, "success", True),
        (200, "SUCCESS", False),
        (200, "success\n", False),
        (500, "success", False),
        (200, "", False),
    ],
)
def test_only_the_exact_word_success_acknowledges(status, body, acknowledged):
    assert local_alipay.is_acknowledged(status, body) is acknowledged


def test_resends_follow_alipays_schedule():
    minutes = [int(delay.total_seconds() // 60) for delay in local_alipay.RETRY_SCHEDULE]

    assert minutes == [4, 10, 10, 60, 120, 360, 900]
