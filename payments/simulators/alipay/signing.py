"""The local Alipay's side of RSA2, written with `cryptography` independently of our gateway code.

Alipay checks requests with the public key the merchant uploaded for its app, and signs replies,
notifications and return URLs with its own private key (RSA, SHA256, PKCS#1 v1.5, base64).
"""

from __future__ import annotations

import base64
import binascii
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings

from payments.gateways.alipay.keys import load_app_private_key
from payments.gateways.base import GatewayConfigurationError

KEYS = Path(__file__).resolve().parent.parent / "keys"


@cache
def _platform_private_key():
    return serialization.load_pem_private_key((KEYS / "TEST_ONLY_alipay_platform_private.pem").read_bytes(), None)


def _app_public_key():
    # What the merchant uploaded to the local Alipay's console for its app: the public half of the
    # app key configured (ALIPAY_APP_PRIVATE_KEY, read as our settings read it), so a custom key
    # works in sandbox mode as a custom WECHAT_API_KEY does with the local WeChat Pay.
    return _public_half(settings.ALIPAY_APP_PRIVATE_KEY)


@cache
def _public_half(app_private_key_setting: str):
    return load_app_private_key(app_private_key_setting).public_key()


def sign_content(params: dict[str, str], *, exclude: tuple[str, ...]) -> bytes:
    """Alipay's string to sign: non-empty parameters but `exclude`, sorted, `k=v` joined by `&`."""
    pairs = sorted((k, v) for k, v in params.items() if k not in exclude and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8")


def sign(data: bytes) -> str:
    return base64.b64encode(_platform_private_key().sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


def request_is_signed_by_app(params: dict[str, str]) -> bool:
    """A merchant request signs every parameter but `sign` itself (sign_type included)."""
    try:
        signature = base64.b64decode(params.get("sign", ""), validate=True)
        _app_public_key().verify(
            signature, sign_content(params, exclude=("sign",)), padding.PKCS1v15(), hashes.SHA256()
        )
    except (binascii.Error, ValueError, InvalidSignature, GatewayConfigurationError):
        return False
    return True


def signed_message(params: dict[str, str]) -> dict[str, str]:
    """Notification and return-URL parameters with Alipay's signature, which leaves out sign_type."""
    message = {**params, "sign_type": "RSA2"}
    message["sign"] = sign(sign_content(message, exclude=("sign", "sign_type")))
    return message
