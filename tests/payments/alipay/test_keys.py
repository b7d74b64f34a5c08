"""Key material as operators paste it: PKCS#8 or PKCS#1 PEM, a file path, or bare base64."""

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from payments.gateways import gateway_get
from payments.gateways.alipay.keys import load_alipay_public_key, load_app_private_key, pkcs1_pem, spki_pem
from payments.gateways.base import GatewayConfigurationError, IncomingNotification, NotificationRejected
from tests.payments.alipay.helpers import KEYS

APP_PRIVATE = KEYS / "TEST_ONLY_alipay_app_private.pem"
PLATFORM_PUBLIC = KEYS / "TEST_ONLY_alipay_platform_public.pem"


def numbers(key):
    return key.private_numbers() if hasattr(key, "private_numbers") else key.public_numbers()


def bare_base64(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


@pytest.fixture
def committed_private_key():
    return load_app_private_key(str(APP_PRIVATE))


def test_committed_app_key_is_pkcs8_and_is_converted_to_pkcs1(committed_private_key):
    assert APP_PRIVATE.read_text().startswith("-----BEGIN PRIVATE KEY-----")

    assert pkcs1_pem(committed_private_key).startswith("-----BEGIN RSA PRIVATE KEY-----\n")


def test_pkcs1_pem_text_loads_the_same_key(committed_private_key):
    assert numbers(load_app_private_key(pkcs1_pem(committed_private_key))) == numbers(committed_private_key)


def test_pkcs8_pem_text_loads_the_same_key(committed_private_key):
    assert numbers(load_app_private_key(APP_PRIVATE.read_text())) == numbers(committed_private_key)


def test_bare_base64_pkcs8_as_the_alipay_key_tool_shows_it_loads_the_same_key(committed_private_key):
    assert numbers(load_app_private_key(bare_base64(APP_PRIVATE.read_text()))) == numbers(committed_private_key)


def test_bare_base64_pkcs1_loads_the_same_key(committed_private_key):
    bare = bare_base64(pkcs1_pem(committed_private_key))

    assert numbers(load_app_private_key(bare)) == numbers(committed_private_key)


def test_pem_with_escaped_newlines_from_an_env_file_loads(committed_private_key):
    one_line = APP_PRIVATE.read_text().strip().replace("\n", "\\n")

    assert numbers(load_app_private_key(one_line)) == numbers(committed_private_key)


@pytest.mark.parametrize("form", ["path", "pem", "bare"])
def test_alipay_public_key_loads_from_every_form(form):
    pem = PLATFORM_PUBLIC.read_text()
    value = {"path": str(PLATFORM_PUBLIC), "pem": pem, "bare": bare_base64(pem)}[form]

    key = load_alipay_public_key(value)

    assert spki_pem(key).split() == pem.split()


@pytest.mark.parametrize("value", ["", "   ", "not a key at all!", base64.b64encode(b"random bytes").decode()])
def test_unusable_private_key_is_a_configuration_error(value):
    with pytest.raises(GatewayConfigurationError):
        load_app_private_key(value)


def test_non_rsa_key_is_a_configuration_error():
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )

    with pytest.raises(GatewayConfigurationError, match="not an RSA key"):
        load_app_private_key(pem)


def test_broken_key_fails_when_used_not_when_the_gateway_is_built(settings):
    settings.ALIPAY_APP_PRIVATE_KEY = "garbage"
    gateway = gateway_get("alipay")

    with pytest.raises(GatewayConfigurationError):
        gateway.close_payment("KP20261122000000000001P01")


def test_broken_alipay_public_key_rejects_notifications(settings):
    settings.ALIPAY_PUBLIC_KEY = "garbage"
    body = b"sign_type=RSA2&sign=AAAA&out_trade_no=KP1"

    with pytest.raises(NotificationRejected) as rejected:
        gateway_get("alipay").parse_notification(IncomingNotification(kind="payment", body=body, content_type=""))

    assert rejected.value.code == "CONFIGURATION"
