"""System checks that keep test keys and impossible settings away from real money."""

from pathlib import Path

import pytest

from payments.checks import (
    check_gateway_configuration,
    check_no_test_only_keys,
    check_order_timeout_fits_every_channel,
    check_wechat_sign_type,
)

KEYS = Path(__file__).resolve().parents[2] / "payments" / "simulators" / "keys"


@pytest.fixture
def live(settings):
    settings.PAYMENTS_SANDBOX = False
    settings.PAYMENTS_CHANNELS = ["alipay", "wechat"]
    settings.ALIPAY_APP_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nreal\n-----END PRIVATE KEY-----"
    settings.ALIPAY_PUBLIC_KEY = "MIIBIjANreal"
    settings.WECHAT_API_KEY = "a-real-32-character-merchant-key"
    settings.WECHAT_MCH_CERT = "/secrets/apiclient_cert.pem"
    settings.WECHAT_MCH_KEY = "/secrets/apiclient_key.pem"
    settings.WECHAT_APP_SECRET = "a-real-official-account-secret00"
    return settings


def error_ids(errors):
    return [(e.id, e.msg.split(" ")[0]) for e in errors]


def test_real_keys_pass(live):
    assert check_no_test_only_keys() == []


def test_committed_test_key_path_is_refused_outside_sandbox(live):
    live.ALIPAY_APP_PRIVATE_KEY = str(KEYS / "TEST_ONLY_alipay_app_private.pem")

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "ALIPAY_APP_PRIVATE_KEY")]


def test_committed_test_key_under_another_name_is_refused(live, tmp_path):
    copy = tmp_path / "alipay_app.pem"
    copy.write_text((KEYS / "TEST_ONLY_alipay_app_private.pem").read_text())
    live.ALIPAY_APP_PRIVATE_KEY = str(copy)

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "ALIPAY_APP_PRIVATE_KEY")]


def test_committed_test_key_pasted_as_text_is_refused(live):
    live.ALIPAY_PUBLIC_KEY = (KEYS / "TEST_ONLY_alipay_platform_public.pem").read_text()

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "ALIPAY_PUBLIC_KEY")]


def test_the_test_only_app_secret_is_refused_outside_sandbox(live):
    live.WECHAT_APP_SECRET = "TESTONLYwechatappsecret012345678"

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "WECHAT_APP_SECRET")]


def test_test_keys_of_a_channel_not_offered_are_ignored(live):
    live.PAYMENTS_CHANNELS = ["wechat"]
    live.ALIPAY_APP_PRIVATE_KEY = str(KEYS / "TEST_ONLY_alipay_app_private.pem")

    assert check_no_test_only_keys() == []


def test_sandbox_channel_outside_sandbox_mode_is_refused(live):
    live.PAYMENTS_CHANNELS = ["alipay", "wechat", "sandbox"]

    assert [e.id for e in check_no_test_only_keys()] == ["payments.E002"]


def test_test_keys_are_fine_in_sandbox_mode(live):
    live.ALIPAY_APP_PRIVATE_KEY = str(KEYS / "TEST_ONLY_alipay_app_private.pem")
    live.WECHAT_API_KEY = "TESTONLYwechatapikey0123456789ab"
    live.PAYMENTS_CHANNELS = ["alipay", "wechat", "sandbox"]
    assert len(check_no_test_only_keys()) == 3  # the same settings, refused outside sandbox mode
    live.PAYMENTS_SANDBOX = True

    assert check_no_test_only_keys() == []


def test_unknown_wechat_sign_type_is_refused(settings):
    settings.WECHAT_SIGN_TYPE = "SHA1"

    assert [e.id for e in check_wechat_sign_type()] == ["payments.E003"]


def test_offered_channels_with_missing_settings_are_reported(settings):
    settings.PAYMENTS_CHANNELS = ["alipay", "wechat"]
    settings.ALIPAY_APP_ID = ""
    settings.WECHAT_API_KEY = "too-short"

    messages = [e.msg for e in check_gateway_configuration()]

    assert "alipay: ALIPAY_APP_ID is not set." in messages
    assert any(m.startswith("wechat: WECHAT_API_KEY must be the 32-character key") for m in messages)


def test_unloadable_alipay_key_is_reported(settings):
    settings.ALIPAY_APP_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"

    assert any(e.msg.startswith("alipay: ") for e in check_gateway_configuration())


def test_channel_without_a_gateway_is_reported(settings):
    settings.PAYMENTS_CHANNELS = ["applepay"]

    assert [e.id for e in check_gateway_configuration()] == ["payments.E004"]


def test_sandbox_defaults_configure_every_channel():
    assert check_gateway_configuration() == []


def test_the_sandbox_credentials_of_stripe_paypal_and_unionpay_are_refused_outside_sandbox(live):
    live.PAYMENTS_CHANNELS = ["stripe", "paypal", "unionpay"]

    assert error_ids(check_no_test_only_keys()) == [
        ("payments.E001", "STRIPE_SECRET_KEY"),
        ("payments.E001", "STRIPE_WEBHOOK_SECRET"),
        ("payments.E001", "PAYPAL_CLIENT_SECRET"),
        ("payments.E001", "PAYPAL_WEBHOOK_ID"),
        ("payments.E001", "UNIONPAY_SIGN_CERT"),
        ("payments.E001", "UNIONPAY_ROOT_CERT"),
        ("payments.E001", "UNIONPAY_MIDDLE_CERT"),
    ]


def test_a_stripe_publishable_key_in_place_of_the_secret_key_is_reported(settings):
    settings.PAYMENTS_CHANNELS = ["stripe"]
    settings.STRIPE_SECRET_KEY = "pk_test_123"

    assert [e.msg for e in check_gateway_configuration()] == [
        "stripe: STRIPE_SECRET_KEY must be a secret (sk_…) or restricted (rk_…) key."
    ]


def test_a_unionpay_certificate_that_does_not_open_is_reported(settings):
    settings.PAYMENTS_CHANNELS = ["unionpay"]
    settings.UNIONPAY_SIGN_CERT_PASSWORD = "wrong"

    assert [e.msg.split(":")[0] for e in check_gateway_configuration()] == ["unionpay"]


def test_paypal_without_a_webhook_id_is_reported(settings):
    settings.PAYMENTS_CHANNELS = ["paypal"]
    settings.PAYPAL_WEBHOOK_ID = ""

    assert [e.msg for e in check_gateway_configuration()] == ["paypal: PAYPAL_WEBHOOK_ID is not set."]


def test_an_order_timeout_under_wechats_five_minutes_is_refused_when_wechat_is_offered(settings):
    settings.ORDER_TIMEOUT_MINUTES = 4

    errors = check_order_timeout_fits_every_channel()

    assert [e.id for e in errors] == ["payments.E005"]
    assert errors[0].msg == "ORDER_TIMEOUT_MINUTES is 4; WeChat Pay needs at least 5 minutes to pay an order."


def test_a_short_order_timeout_is_fine_without_wechat(settings):
    settings.ORDER_TIMEOUT_MINUTES = 4
    settings.PAYMENTS_CHANNELS = ["alipay", "sandbox"]

    assert check_order_timeout_fits_every_channel() == []


def test_five_minutes_is_enough_for_wechat(settings):
    settings.ORDER_TIMEOUT_MINUTES = 5

    assert check_order_timeout_fits_every_channel() == []
