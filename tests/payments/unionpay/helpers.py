"""UnionPay messages for tests: the payer's browser on the form we start with, and forged signers."""

import datetime as dt
from types import SimpleNamespace
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from payments.gateways.base import PaymentStart
from payments.gateways.unionpay.protocol import SigningCert, cert_pem
from tests.payments.browser import Browser

TEST_CARD = "6216261000000000018"


def open_cashier(browser: Browser, start: PaymentStart):
    """What the auto-submitting form does in the payer's browser."""
    return browser.submit(SimpleNamespace(text=start.html, url=browser.base_url), "frontTransReq.do")


def self_signed_unionpay_lookalike() -> SigningCert:
    """A certificate with UnionPay's CN, but not issued by the configured chain."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "041@Z12@中国银联股份有限公司@00000062")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return SigningCert(key=key, cert=cert)


def notification_body(fields: dict[str, str], signer: SigningCert) -> bytes:
    return urlencode(signer.sign({**fields, "signPubKeyCert": cert_pem(signer.cert)})).encode()


def consume_fields(*, out_trade_no: str, amount_fen: int, mer_id: str = "777290058110048", **overrides) -> dict:
    return {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "accessType": "0",
        "bizType": "000201",
        "txnType": "01",
        "txnSubType": "01",
        "merId": mer_id,
        "orderId": out_trade_no,
        "txnTime": "20261122120000",
        "txnAmt": str(amount_fen),
        "currencyCode": "156",
        "queryId": "261122120000123456789",
        "traceNo": "123456",
        "traceTime": "1122120010",
        "respCode": "00",
        "respMsg": "成功[0000000]",
        **overrides,
    }
