"""Alipay messages for tests, signed the way Alipay signs them, with the committed TEST-ONLY keys
(or with a key that is not Alipay's), so they go through the gateway's real verification.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.utils import timezone

from knowpay.money import fen_to_yuan
from payments.gateways.base import PaymentRequest

KEYS = Path(__file__).resolve().parents[3] / "payments" / "simulators" / "keys"
NOTIFY_URL = "/payments/notify/alipay/"
APP_ID = "2021000000000001"
SELLER_ID = "2088000000000001"


@cache
def platform_key() -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key((KEYS / "TEST_ONLY_alipay_platform_private.pem").read_bytes(), None)


@cache
def app_key() -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key((KEYS / "TEST_ONLY_alipay_app_private.pem").read_bytes(), None)


@cache
def stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signature(data: bytes, key: rsa.RSAPrivateKey | None = None, algorithm=None) -> str:
    signed = (key or platform_key()).sign(data, padding.PKCS1v15(), algorithm or hashes.SHA256())
    return base64.b64encode(signed).decode()


def notification_content(fields: dict[str, str]) -> bytes:
    pairs = sorted((k, v) for k, v in fields.items() if k not in ("sign", "sign_type") and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs).encode()


def notification_fields(payment, **overrides: str) -> dict[str, str]:
    """Alipay's trade_status_sync notification of a paid trade, unsigned."""
    now = timezone.localtime(timezone.now()).strftime("%Y-%m-%d %H:%M:%S")
    amount = fen_to_yuan(payment.amount_fen)
    fields = {
        "notify_time": now,
        "notify_type": "trade_status_sync",
        "notify_id": "2026112200222120000000000000000001",
        "app_id": APP_ID,
        "auth_app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": f"20261122220010{payment.pk:014d}",
        "out_trade_no": payment.out_trade_no,
        "buyer_id": "2088102177846880",
        "buyer_logon_id": "138****0000",
        "seller_id": SELLER_ID,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": amount,
        "receipt_amount": amount,
        "buyer_pay_amount": amount,
        "subject": "课程 Course",
        "gmt_create": now,
        "gmt_payment": now,
    }
    fields.update(overrides)
    return fields


def notification_body(payment, *, key=None, sign_type="RSA2", algorithm=None, **overrides: str) -> bytes:
    """A form body as Alipay posts it, signed with `key` (Alipay's own by default)."""
    fields = notification_fields(payment, **overrides)
    fields["sign_type"] = sign_type
    fields["sign"] = signature(notification_content(fields), key, algorithm)
    return urlencode(fields).encode()


def signed_reply(method: str, fields: dict, key: rsa.RSAPrivateKey | None = None) -> bytes:
    """An OpenAPI reply as Alipay sends it: the signature covers the exact bytes of the inner object."""
    inner = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    node = method.replace(".", "_") + "_response"
    return f'{{"{node}":{inner},"sign":"{signature(inner.encode(), key)}"}}'.encode()


def payment_request(out_trade_no: str, method: str, *, amount_fen: int = 1290, site_url: str = "http://testserver"):
    return PaymentRequest(
        out_trade_no=out_trade_no,
        amount_fen=amount_fen,
        subject="Python 入门 / 第一课 & more",
        method=method,
        notify_url=f"{site_url}{NOTIFY_URL}",
        return_url=f"{site_url}/orders/KP1/return/",
        expires_at=timezone.now() + dt.timedelta(minutes=30),
        client_ip="127.0.0.1",
    )
