"""Alipay key material from settings: PEM text, a path to a PEM file, or bare base64 as the Alipay
console shows it. The SDK signs only with a PKCS#1 private key, while Alipay's key tool (and our
committed sandbox key) writes PKCS#8, so the private key is converted here.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.gateways.base import GatewayConfigurationError


def _material(value: str, setting: str) -> str:
    value = value.strip()
    if not value:
        raise GatewayConfigurationError(f"{setting} is not set", code="MISSING_KEY")
    if "-----BEGIN" in value:
        # Environment files often carry PEM on one line with escaped newlines.
        return value.replace("\\n", "\n")
    if "\n" not in value and len(value) < 4096 and Path(value).is_file():
        return Path(value).read_text()
    return value


def _der(text: str, setting: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GatewayConfigurationError(
            f"{setting} is neither PEM, a readable file, nor base64", code="BAD_KEY"
        ) from exc


def load_app_private_key(value: str, setting: str = "ALIPAY_APP_PRIVATE_KEY") -> rsa.RSAPrivateKey:
    """The app's RSA private key from PKCS#8 or PKCS#1, PEM or bare base64. Raises GatewayConfigurationError."""
    text = _material(value, setting)
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = serialization.load_der_private_key(_der(text, setting), password=None)
    except (ValueError, TypeError) as exc:
        raise GatewayConfigurationError(f"{setting} is not a usable private key: {exc}", code="BAD_KEY") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise GatewayConfigurationError(f"{setting} is not an RSA key", code="BAD_KEY")
    return key


def load_alipay_public_key(value: str, setting: str = "ALIPAY_PUBLIC_KEY") -> rsa.RSAPublicKey:
    """Alipay's RSA public key, PEM or bare base64 (X.509 SubjectPublicKeyInfo). Raises GatewayConfigurationError."""
    text = _material(value, setting)
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(_der(text, setting))
    except (ValueError, TypeError) as exc:
        raise GatewayConfigurationError(f"{setting} is not a usable public key: {exc}", code="BAD_KEY") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise GatewayConfigurationError(f"{setting} is not an RSA key", code="BAD_KEY")
    return key


def pkcs1_pem(key: rsa.RSAPrivateKey) -> str:
    """The form the SDK signs with: `-----BEGIN RSA PRIVATE KEY-----`."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def spki_pem(key: rsa.RSAPublicKey) -> str:
    """The form the SDK verifies with: `-----BEGIN PUBLIC KEY-----`."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
