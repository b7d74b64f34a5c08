"""The local PayPal's webhook signatures: its TEST-ONLY key signs, its certificate verifies."""

import base64
import binascii
import datetime as dt
import uuid
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.urls import reverse

KEYS = Path(__file__).resolve().parent.parent / "keys"
CERT_NAME = "CERT-TESTONLY-knowpay-webhooks"


@cache
def _signing_key():
    return serialization.load_pem_private_key((KEYS / "TEST_ONLY_paypal_webhook_key.pem").read_bytes(), None)


@cache
def webhook_certificate() -> x509.Certificate:
    return x509.load_pem_x509_certificate((KEYS / "TEST_ONLY_paypal_webhook_cert.pem").read_bytes())


def cert_url() -> str:
    return settings.SITE_URL + reverse("paypal-cert", args=[CERT_NAME])


def transmission_message(transmission_id: str, time: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{time}|{webhook_id}|{binascii.crc32(body) & 0xFFFFFFFF}".encode()


def delivery_headers(body: str) -> dict[str, str]:
    transmission_id = str(uuid.uuid4())
    time = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = transmission_message(transmission_id, time, settings.PAYPAL_WEBHOOK_ID, body.encode("utf-8"))
    signature = _signing_key().sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "PAYPAL-CERT-URL": cert_url(),
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-TRANSMISSION-TIME": time,
    }
