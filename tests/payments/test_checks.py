"""System checks that keep test keys and impossible settings away from real money."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from payments.checks import (
    check_gateway_configuration,
    check_no_test_only_keys,
    check_order_timeout_fits_every_channel,
    check_wechat_sign_type,
)
from tests.production import production_environment, self_signed_cert

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
    live.WECHAT_APP_SECRET = (KEYS / "TEST_ONLY_wechat_app_secret.txt").read_text().strip()

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "WECHAT_APP_SECRET")]


def pem_to_der_base64(path) -> str:
    return "".join(line for line in path.read_text().splitlines() if not line.startswith("-----"))


def test_committed_public_key_as_bare_base64_is_refused(live):
    live.ALIPAY_PUBLIC_KEY = pem_to_der_base64(KEYS / "TEST_ONLY_alipay_platform_public.pem")

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "ALIPAY_PUBLIC_KEY")]


def test_committed_public_key_reencoded_as_pkcs1_is_refused(live):
    key = serialization.load_pem_public_key((KEYS / "TEST_ONLY_alipay_platform_public.pem").read_bytes())
    live.ALIPAY_PUBLIC_KEY = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "ALIPAY_PUBLIC_KEY")]


def test_committed_private_key_reencoded_as_pkcs1_is_refused(live):
    key = serialization.load_pem_private_key((KEYS / "TEST_ONLY_alipay_app_private.pem").read_bytes(), None)
    live.ALIPAY_APP_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "ALIPAY_APP_PRIVATE_KEY")]


def test_committed_private_key_as_bare_base64_is_refused(live):
    live.ALIPAY_APP_PRIVATE_KEY = pem_to_der_base64(KEYS / "TEST_ONLY_alipay_app_private.pem")

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "ALIPAY_APP_PRIVATE_KEY")]


def test_public_half_of_a_committed_private_key_is_refused(live):
    # Alipay would verify our requests with this public key: trusting it is trusting the test pair.
    live.ALIPAY_PUBLIC_KEY = str(KEYS / "TEST_ONLY_alipay_app_public.pem")

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "ALIPAY_PUBLIC_KEY")]


def test_committed_merchant_key_as_a_der_file_under_another_name_is_refused(live, tmp_path):
    key = serialization.load_pem_private_key((KEYS / "TEST_ONLY_wechat_mch_key.pem").read_bytes(), None)
    der = tmp_path / "apiclient_key.der"
    der.write_bytes(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    live.WECHAT_MCH_KEY = str(der)

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "WECHAT_MCH_KEY")]


def test_committed_merchant_certificate_reissued_for_the_same_key_is_refused(live, tmp_path):
    key = serialization.load_pem_private_key((KEYS / "TEST_ONLY_wechat_mch_key.pem").read_bytes(), None)
    cert = tmp_path / "apiclient_cert.pem"
    cert.write_bytes(self_signed_cert(key))
    live.WECHAT_MCH_CERT = str(cert)

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "WECHAT_MCH_CERT")]


def test_committed_wechat_api_key_is_refused(live):
    live.WECHAT_API_KEY = (KEYS / "TEST_ONLY_wechat_api_key.txt").read_text().strip()

    assert error_ids(check_no_test_only_keys()) == [("payments.E001", "WECHAT_API_KEY")]


def test_freshly_made_keys_pass(live, tmp_path):
    env = production_environment(tmp_path)
    for name in ("ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY", "WECHAT_API_KEY", "WECHAT_MCH_CERT", "WECHAT_MCH_KEY"):
        setattr(live, name, env[name])

    assert check_no_test_only_keys() == []


def test_test_keys_of_a_channel_not_offered_are_ignored(live):
    live.PAYMENTS_CHANNELS = ["wechat"]
    live.ALIPAY_APP_PRIVATE_KEY = str(KEYS / "TEST_ONLY_alipay_app_private.pem")

    assert check_no_test_only_keys() == []


def test_sandbox_channel_outside_sandbox_mode_is_refused(live):
    live.PAYMENTS_CHANNELS = ["alipay", "wechat", "sandbox"]

    assert [e.id for e in check_no_test_only_keys()] == ["payments.E002"]


def test_test_keys_are_fine_in_sandbox_mode(live):
    live.ALIPAY_APP_PRIVATE_KEY = str(KEYS / "TEST_ONLY_alipay_app_private.pem")
    live.WECHAT_API_KEY = (KEYS / "TEST_ONLY_wechat_api_key.txt").read_text().strip()
    live.PAYMENTS_CHANNELS = ["alipay", "wechat", "sandbox"]
    assert len(check_no_test_only_keys()) == 3  # the same settings, refused outside sandbox mode
    live.PAYMENTS_SANDBOX = True
    live.DEBUG = True

    assert check_no_test_only_keys() == []


def test_sandbox_mode_without_debug_is_refused(settings):
    settings.PAYMENTS_SANDBOX = True
    settings.DEBUG = False

    assert [e.id for e in check_no_test_only_keys()] == ["payments.E006"]


def test_sandbox_mode_without_debug_is_allowed_for_a_public_demo(settings):
    settings.PAYMENTS_SANDBOX = True
    settings.DEBUG = False
    settings.PAYMENTS_PUBLIC_DEMO = True

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
