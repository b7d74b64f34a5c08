"""The two fixes applied to alipay-sdk-python on import (payments/gateways/alipay/sdk_patches.py)."""

import http.client

import pytest
from alipay.aop.api.util import SignatureUtils, WebUtils

from payments.gateways.alipay import sdk_patches
from payments.gateways.alipay.keys import load_app_private_key, pkcs1_pem
from tests.payments.alipay.helpers import KEYS

SIGN_CONTENT = (
    'app_id=2021000000000001&biz_content={"out_trade_no":"KP20261122P01","subject":"Python 入门 · 第一课",'
    '"total_amount":"12.90"}&charset=utf-8&method=alipay.trade.page.pay&sign_type=RSA2'
    "&timestamp=2026-11-22 12:00:00&version=1.0"
)


@pytest.fixture(scope="module")
def pkcs1_key():
    return pkcs1_pem(load_app_private_key(str(KEYS / "TEST_ONLY_alipay_app_private.pem")))


# --- Transport ------------------------------------------------------------------------------


def test_the_sdk_function_crashes_on_a_port():
    with pytest.raises(TypeError):
        sdk_patches.SDK_GET_HTTP_CONNECTION("http://127.0.0.1:8000/gateway.do", "a=1", 5)


def test_patched_connection_keeps_the_port_and_sends_an_origin_form_target():
    target, connection = WebUtils.get_http_connection("http://127.0.0.1:8000/sandbox/alipay/gateway.do", "a=1&b=2", 5)

    assert target == "/sandbox/alipay/gateway.do?a=1&b=2"
    assert (connection.host, connection.port, connection.timeout) == ("127.0.0.1", 8000, 5)
    assert not isinstance(connection, http.client.HTTPSConnection)


def test_patched_connection_uses_https_on_443_by_default():
    target, connection = WebUtils.get_http_connection("https://openapi.alipay.com/gateway.do", "a=1", 10)

    assert target == "/gateway.do?a=1"
    assert isinstance(connection, http.client.HTTPSConnection)
    assert (connection.host, connection.port) == ("openapi.alipay.com", 443)


def test_patched_connection_keeps_a_query_already_in_the_server_url():
    target, _ = WebUtils.get_http_connection("http://example.test/gateway.do?charset=utf-8", "a=1", 5)

    assert target == "/gateway.do?charset=utf-8&a=1"


# --- Signing --------------------------------------------------------------------------------


def test_patch_replaces_the_signer_the_client_calls():
    client_module = sdk_patches._client_module

    assert SignatureUtils.sign_with_rsa2 is sdk_patches.sign_with_rsa2
    assert client_module.sign_with_rsa2 is sdk_patches.sign_with_rsa2


def test_cryptography_signature_is_byte_identical_to_the_sdk_one(pkcs1_key):
    expected = sdk_patches.SDK_SIGN_WITH_RSA2(pkcs1_key, SIGN_CONTENT, "utf-8")

    assert sdk_patches.sign_with_rsa2(pkcs1_key, SIGN_CONTENT, "utf-8") == expected


def test_signatures_match_for_bare_base64_keys_too(pkcs1_key):
    bare = "".join(line for line in pkcs1_key.splitlines() if not line.startswith("-----"))

    assert sdk_patches.sign_with_rsa2(bare, SIGN_CONTENT, "utf-8") == sdk_patches.SDK_SIGN_WITH_RSA2(
        bare, SIGN_CONTENT, "utf-8"
    )


def test_the_key_is_parsed_once_for_many_signatures(pkcs1_key):
    sdk_patches._private_key.cache_clear()

    for n in range(5):
        sdk_patches.sign_with_rsa2(pkcs1_key, f"{SIGN_CONTENT}&n={n}", "utf-8")

    assert sdk_patches._private_key.cache_info().misses == 1
