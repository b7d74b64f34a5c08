"""Two fixes to alipay-sdk-python 3.7.1411, applied once, when the Alipay gateway is first imported.

1. Transport. `alipay.aop.api.util.WebUtils.get_http_connection` always connects to port 80 or 443
   (a `server_url` with an explicit port crashes with a TypeError), and it returns the absolute URL
   as the request target, which servers other than Alipay's answer with 404; a non-200 reply then
   fails inside the SDK with a TypeError (str + bytes) instead of an error we can recognise. The
   replacement connects to the URL's own scheme, host and port, sends an origin-form target
   (`/path?query`), and raises AlipayHTTPStatusError for a non-200 reply. It is what lets the
   same SDK code path run against the local Alipay in the demo and the tests.
2. Signing speed. The SDK signs every request with the pure-Python `rsa` package and parses the
   key again each time: about 25 ms per signature, on the checkout path. `cryptography` with the
   key parsed once produces the same RSA2 signature (SHA256, PKCS#1 v1.5, which is deterministic),
   byte for byte, in a fraction of a millisecond.
"""

from __future__ import annotations

import base64
import functools
import http.client
import importlib
from urllib.parse import urlsplit

from alipay.aop.api.util import SignatureUtils, WebUtils
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# DefaultAlipayClient's package attribute of the same name may be the class; we need the module,
# because it imported sign_with_rsa2 into its own namespace with `import *`.
_client_module = importlib.import_module("alipay.aop.api.DefaultAlipayClient")

# The SDK's own implementations, kept for the equivalence tests and the benchmark.
SDK_GET_HTTP_CONNECTION = WebUtils.get_http_connection
SDK_SIGN_WITH_RSA2 = SignatureUtils.sign_with_rsa2


class AlipayHTTPStatusError(Exception):
    """The gateway answered with an HTTP status other than 200."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200]!r}")
        self.status = status
        self.body = body


class _StatusCheckingMixin:
    def getresponse(self):
        response = super().getresponse()
        if response.status != 200:
            body = response.read(2000)
            self.close()
            raise AlipayHTTPStatusError(response.status, body)
        return response


class _HTTPConnection(_StatusCheckingMixin, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_StatusCheckingMixin, http.client.HTTPSConnection):
    pass


def get_http_connection(url: str, query_string: str | None, timeout: float):
    """Replacement of WebUtils.get_http_connection: (origin-form target, unconnected connection)."""
    parts = urlsplit(url)
    connection_class = _HTTPSConnection if parts.scheme == "https" else _HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    query = "&".join(q for q in (parts.query, query_string) if q)
    target = (parts.path or "/") + (f"?{query}" if query else "")
    return target, connection


@functools.lru_cache(maxsize=8)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(SignatureUtils.fill_private_key_marker(pem).encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the Alipay app private key must be an RSA key")
    return key


def sign_with_rsa2(private_key: str, sign_content: str, charset: str) -> str:
    """Replacement of SignatureUtils.sign_with_rsa2 (same arguments, same output)."""
    signature = _private_key(private_key).sign(sign_content.encode(charset), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def _apply() -> None:
    WebUtils.get_http_connection = get_http_connection
    SignatureUtils.sign_with_rsa2 = sign_with_rsa2
    _client_module.sign_with_rsa2 = sign_with_rsa2


_apply()
