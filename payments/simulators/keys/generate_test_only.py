"""Generate the TEST-ONLY certificates of the local PayPal and the local UnionPay (run once; committed).

    .venv/bin/python payments/simulators/keys/generate_test_only.py

Writes into this folder:
- TEST_ONLY_paypal_webhook_key.pem / _cert.pem: the local PayPal's webhook signing key and its
  self-signed certificate (served at the webhooks' cert_url).
- TEST_ONLY_unionpay_root_cert.pem, TEST_ONLY_unionpay_middle_cert.pem: the local UnionPay's CA
  chain (what UNIONPAY_ROOT_CERT and UNIONPAY_MIDDLE_CERT point at in sandbox mode).
- TEST_ONLY_unionpay_sign_key.pem / _cert.pem: the local UnionPay's signing key and certificate,
  issued by the middle CA, CN `041@Z12@中国银联股份有限公司@00000062` as UnionPay's are.
- TEST_ONLY_unionpay_merchant.pfx (password 000000, as UnionPay's test pfx) and
  TEST_ONLY_unionpay_merchant_cert.pem: our merchant signing key and certificate, issued by the
  middle CA; the local UnionPay knows the certificate by its serial number (certId).

Certificates are valid for 20 years from generation. Rerunning replaces them all.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
PFX_PASSWORD = b"000000"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _cert(subject, key, issuer, issuer_key, *, ca: bool, serial: int | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=20 * 365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key(name: str, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (HERE / name).write_bytes(pem)


def _write_cert(name: str, cert: x509.Certificate) -> None:
    (HERE / name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def main() -> None:
    paypal_key = _key()
    paypal_name = _name("messageverificationcerts.sandbox.paypal.com TEST ONLY", "KnowPay local PayPal TEST ONLY")
    _write_key("TEST_ONLY_paypal_webhook_key.pem", paypal_key)
    _write_cert("TEST_ONLY_paypal_webhook_cert.pem", _cert(paypal_name, paypal_key, paypal_name, paypal_key, ca=False))

    organisation = "KnowPay local UnionPay TEST ONLY"
    root_key, middle_key = _key(), _key()
    root_name = _name("TEST ONLY UnionPay Root CA", organisation)
    middle_name = _name("TEST ONLY UnionPay Middle CA", organisation)
    _write_cert("TEST_ONLY_unionpay_root_cert.pem", _cert(root_name, root_key, root_name, root_key, ca=True))
    _write_cert("TEST_ONLY_unionpay_middle_cert.pem", _cert(middle_name, middle_key, root_name, root_key, ca=True))

    sign_key = _key()
    sign_name = _name("041@Z12@中国银联股份有限公司@00000062", organisation)
    _write_key("TEST_ONLY_unionpay_sign_key.pem", sign_key)
    _write_cert("TEST_ONLY_unionpay_sign_cert.pem", _cert(sign_name, sign_key, middle_name, middle_key, ca=False))

    merchant_key = _key()
    merchant_name = _name("041@Z12@777290058110048@00000001", "KnowPay TEST ONLY merchant")
    merchant_cert = _cert(merchant_name, merchant_key, middle_name, middle_key, ca=False)
    _write_cert("TEST_ONLY_unionpay_merchant_cert.pem", merchant_cert)
    pfx = pkcs12.serialize_key_and_certificates(
        b"TEST_ONLY merchant", merchant_key, merchant_cert, None, serialization.BestAvailableEncryption(PFX_PASSWORD)
    )
    (HERE / "TEST_ONLY_unionpay_merchant.pfx").write_bytes(pfx)


if __name__ == "__main__":
    main()
