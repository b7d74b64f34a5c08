"""A production configuration with freshly made keys, for starting real processes in subprocesses."""

import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parent.parent
TEST_KEYS = ROOT / "payments" / "simulators" / "keys"
# Variables of ours that a developer's or CI's environment may set; a subprocess starts without them.
_PROJECT_PREFIXES = (
    "DEBUG",
    "SECRET_KEY",
    "PAYMENTS_",
    "ALIPAY_",
    "WECHAT_",
    "UNIONPAY_",
    "STRIPE_",
    "PAYPAL_",
    "SANDBOX_",
    "SECURE_",
    "SITE_URL",
    "HOST",
    "PORT",
    "FIELD_ENCRYPTION_KEYS",
    "CACHE_URL",
    "RATE_LIMIT_",
    "API_RATE_",
    "RISK_",
    "JWT_",
    "LOG_",
    "METRICS_",
    "SENTRY_",
    "GATEWAY_",
)
_PROJECT_NAMES = {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL", "CELERY_BROKER_URL", "USE_X_FORWARDED_PROTO"}


def _pem_private(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def self_signed_cert(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "KnowPay merchant")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def environment_without_ours() -> dict[str, str]:
    """This process's environment less every variable that configures KnowPay."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_PROJECT_PREFIXES) and name not in _PROJECT_NAMES
    }


def production_environment(directory: Path, **overrides: str) -> dict[str, str]:
    """What the README's deploying section exports, with real (fresh, private) keys written to `directory`."""
    app_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alipay_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    mch_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files = {
        "alipay_app.pem": _pem_private(app_key),
        "alipay_public.pem": alipay_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "apiclient_key.pem": _pem_private(mch_key),
        "apiclient_cert.pem": self_signed_cert(mch_key),
    }
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return {
        **environment_without_ours(),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "pay.example.com,127.0.0.1",
        "SITE_URL": "https://pay.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://pay.example.com",
        "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
        "STATIC_ROOT": str(directory / "static"),
        "MEDIA_ROOT": str(directory / "media"),
        "USE_X_FORWARDED_PROTO": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "PAYMENTS_SANDBOX": "false",
        "ALIPAY_APP_ID": "2021004100000000",
        "ALIPAY_APP_PRIVATE_KEY": str(directory / "alipay_app.pem"),
        "ALIPAY_PUBLIC_KEY": str(directory / "alipay_public.pem"),
        "WECHAT_APP_ID": "wx8888888888888888",
        "WECHAT_MCH_ID": "1230000109",
        "WECHAT_API_KEY": secrets.token_hex(16),
        "WECHAT_APP_SECRET": secrets.token_hex(16),
        "WECHAT_MCH_CERT": str(directory / "apiclient_cert.pem"),
        "WECHAT_MCH_KEY": str(directory / "apiclient_key.pem"),
        **overrides,
    }


def run_python(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """`python <args>` in the project root with exactly this environment."""
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
