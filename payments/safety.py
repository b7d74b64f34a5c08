"""Whether this configuration may start a process that handles real money.

One decision, `startup_refusals()`, made for every entry point: the system checks (manage.py), the
WSGI and ASGI applications (gunicorn, uvicorn) and the Celery worker and beat. A refusal is:

- an enabled channel trusting committed TEST-ONLY material (payments.E001): compared by the key
  itself (the SHA-256 of its public key, for private keys and certificates that of their public
  part), so the same key as another file, pasted PEM, bare base64, DER, PKCS#1 or PKCS#8 is found;
  shared secrets (WeChat's API key and app secret, Stripe's and PayPal's secrets) by content; a
- the sandbox channel, which moves no money, enabled outside sandbox mode (payments.E002);
- sandbox mode with DEBUG off that is not declared a public demo (payments.E006): a site that looks
  like production but whose gateways are local simulators.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from payments.gateways import UnknownChannel, gateway_class_get

TEST_KEYS_DIR = Path(__file__).resolve().parent / "simulators" / "keys"
_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----.+?-----END [A-Z0-9 ]+-----", re.DOTALL)
# A value this short without a newline may be a path to a key file.
_MAX_PATH_LENGTH = 4096
# PKCS#12 files open without a password or with the one UnionPay gives its test certificates (and
# our committed one uses): a copy under another password is a new file someone made on purpose.
_PKCS12_PASSWORDS = (None, b"000000")


@dataclass(frozen=True)
class StartupRefusal:
    check_id: str
    message: str
    hint: str


def _public_key_fingerprint(key) -> str:
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def _pkcs12_public_key(data: bytes):
    for password in _PKCS12_PASSWORDS:
        try:
            key, _, _ = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            continue
        if key is not None:
            return key.public_key()
    raise ValueError("not a PKCS#12 file we can open")


def _der_fingerprint(der: bytes) -> str | None:
    loaders = (
        lambda data: serialization.load_der_private_key(data, password=None).public_key(),
        serialization.load_der_public_key,
        lambda data: x509.load_der_x509_certificate(data).public_key(),
        _pkcs12_public_key,
    )
    for load in loaders:
        try:
            return _public_key_fingerprint(load(der))
        except (ValueError, TypeError):
            continue
    return None


def _pem_fingerprint(block: bytes) -> str | None:
    loaders = (
        lambda data: serialization.load_pem_private_key(data, password=None).public_key(),
        serialization.load_pem_public_key,
        lambda data: x509.load_pem_x509_certificate(data).public_key(),
    )
    for load in loaders:
        try:
            return _public_key_fingerprint(load(block))
        except (ValueError, TypeError):
            continue
    return None


def _content(value: str) -> bytes:
    """What a setting holds: the file it names, or the value itself (escaped newlines undone)."""
    value = value.strip()
    if value and "\n" not in value and len(value) < _MAX_PATH_LENGTH and "-----BEGIN" not in value:
        path = Path(value)
        try:
            if path.is_file():
                return path.read_bytes()
        except OSError:
            pass
    return value.replace("\\n", "\n").encode()


def key_fingerprints(value: str) -> set[str]:
    """Fingerprints of every key or certificate in a setting: PEM text, bare base64 DER, DER or a file of them."""
    content = _content(value)
    blocks = _PEM_BLOCK.findall(content)
    if blocks:
        return {fingerprint for block in blocks if (fingerprint := _pem_fingerprint(block))}
    candidates = [content]
    with contextlib.suppress(binascii.Error, ValueError):
        candidates.append(base64.b64decode(b"".join(content.split()), validate=True))
    return {fingerprint for der in candidates if der and (fingerprint := _der_fingerprint(der))}


@cache
def _committed_test_material() -> tuple[frozenset[str], frozenset[str]]:
    """(key fingerprints, shared secrets) of everything committed in payments/simulators/keys/."""
    fingerprints: set[str] = set()
    secrets: set[str] = set()
    for path in TEST_KEYS_DIR.glob("TEST_ONLY_*"):
        if path.suffix == ".txt":
            secrets.add(path.read_text().strip())
        else:  # PEM, PKCS#12
            fingerprints |= key_fingerprints(str(path))
    return frozenset(fingerprints), frozenset(secrets)


def is_committed_test_material(value: str) -> bool:
    """Whether a setting's value is (or names a file holding) any key or secret committed for tests."""
    if not value.strip():
        return False
    fingerprints, secrets = _committed_test_material()
    if value.strip() in secrets or _content(value).strip().decode(errors="replace") in secrets:
        return True
    return bool(key_fingerprints(value) & fingerprints)


def startup_refusals() -> list[StartupRefusal]:
    """Everything that makes this configuration unsafe to start; empty when it may start."""
    refusals = []
    if not settings.PAYMENTS_SANDBOX:
        for channel in settings.PAYMENTS_CHANNELS:
            try:
                secret_settings = gateway_class_get(channel).secret_settings
            except UnknownChannel:
                continue  # payments.E004 names it
            refusals += [
                StartupRefusal(
                    "payments.E001",
                    f"{name} is TEST-ONLY key material, which is public.",
                    "Configure the real key from the gateway's console, or turn PAYMENTS_SANDBOX on.",
                )
                for name in secret_settings
                if is_committed_test_material(str(getattr(settings, name, "") or ""))
            ]
        if "sandbox" in settings.PAYMENTS_CHANNELS:
            refusals.append(
                StartupRefusal(
                    "payments.E002",
                    "The sandbox channel is enabled but PAYMENTS_SANDBOX is off.",
                    "Remove 'sandbox' from PAYMENTS_CHANNELS: it takes no real money.",
                )
            )
    elif not settings.DEBUG and not settings.PAYMENTS_PUBLIC_DEMO:
        refusals.append(
            StartupRefusal(
                "payments.E006",
                "PAYMENTS_SANDBOX is on with DEBUG off: every gateway is a local simulator.",
                "Turn PAYMENTS_SANDBOX off for production, or set PAYMENTS_PUBLIC_DEMO=true for a public demo.",
            )
        )
    return refusals


def startup_refuse_if_unsafe(process: str) -> None:
    """Called by each entry point before it serves; raises ImproperlyConfigured naming every refusal."""
    refusals = startup_refusals()
    if refusals:
        lines = "\n".join(f"  {r.check_id}: {r.message} {r.hint}" for r in refusals)
        raise ImproperlyConfigured(f"KnowPay refuses to start the {process}:\n{lines}")
