"""WeChat Pay API v2 as the local WeChat Pay writes and reads it.

Written from the protocol, independently of our gateway module (payments/gateways/wechat/), so the
two sides check each other: signatures, XML and the refund notification's encryption.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import string
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BEIJING = ZoneInfo("Asia/Shanghai")
SIGN_TYPES = ("MD5", "HMAC-SHA256")


class BadMessage(ValueError):
    """Not a flat WeChat XML message."""


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name, pubid, system):
        raise BadMessage("a DTD is not allowed")


def parse(body: bytes, *, root: str = "xml") -> dict[str, str]:
    """The fields of `<root><name>value</name>...</root>`; a DTD, nesting or repeats are refused."""
    parser = ET.XMLParser(target=_NoDoctype())  # noqa: S314 (a DTD, the root of XML attacks, is refused)
    try:
        parser.feed(body)
        element = parser.close()
    except ET.ParseError as exc:
        raise BadMessage(str(exc)) from exc
    if element.tag != root:
        raise BadMessage(f"root is <{element.tag}>")
    fields: dict[str, str] = {}
    for child in element:
        if len(child) or child.tag in fields:
            raise BadMessage(f"nested or repeated <{child.tag}>")
        fields[child.tag] = child.text or ""
    return fields


def render(fields: dict[str, str], *, root: str = "xml") -> str:
    """As WeChat writes: numbers bare, text in CDATA, empty fields left out."""
    parts = []
    for name, value in fields.items():
        if value == "":
            continue
        text = value if value.isdigit() else "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
        parts.append(f"<{name}>{text}</{name}>")
    return f"<{root}>{''.join(parts)}</{root}>"


def signature(fields: dict[str, str], *, key: str, sign_type: str) -> str:
    pairs = [f"{name}={fields[name]}" for name in sorted(fields) if name != "sign" and fields[name] != ""]
    content = "&".join([*pairs, f"key={key}"]).encode()
    if sign_type == "HMAC-SHA256":
        return hmac.new(key.encode(), content, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(content, usedforsecurity=False).hexdigest().upper()


def signed(fields: dict[str, str], *, key: str, sign_type: str) -> dict[str, str]:
    return {**fields, "sign": signature(fields, key=key, sign_type=sign_type)}


def is_signed_by(fields: dict[str, str], *, key: str, sign_type: str) -> bool:
    return hmac.compare_digest(
        fields.get("sign", "").encode(), signature(fields, key=key, sign_type=sign_type).encode()
    )


def encrypt_req_info(fields: dict[str, str], *, key: str) -> str:
    """A refund notification's req_info: base64(AES-256-ECB(<root> xml)), key = md5(api key) in hex."""
    aes_key = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest().encode()
    padder = padding.PKCS7(128).padder()
    plain = padder.update(render(fields, root="root").encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor()  # noqa: S305 (WeChat's choice of mode)
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def nonce() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def beijing(moment: dt.datetime, layout: str = "%Y%m%d%H%M%S") -> str:
    return moment.astimezone(BEIJING).strftime(layout)


def parse_beijing(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
