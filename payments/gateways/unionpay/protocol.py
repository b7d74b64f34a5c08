"""UnionPay 全渠道 (ACP 5.1.0) messages: signatures with certificates, replies, the reconciliation file.

No official Python SDK exists; this follows the published specification as UnionPay's own Java SDK
implements it (see GATEWAYS-MORE.md §5):

- Signing (signMethod 01): drop empty fields; certId = our signing certificate's serial number in
  decimal; s = the fields except `signature`, sorted by name, joined `k=v&...` with raw values;
  signature = base64(SHA256withRSA(our key, lower-case hex SHA-256 of s)). The RSA signature is
  over the hex string, not over s or the raw digest.
- Verifying (UnionPay's replies and notifications): the message carries UnionPay's signing
  certificate (signPubKeyCert, PEM). It must be valid now, issued by the configured middle
  certificate, which is valid and issued by the configured root; its CN, split on "@", must name
  中国银联股份有限公司 in third place. Then the signature is checked as above with its key.
- Replies are `k=v&k=v` with raw values, which may contain `&` inside {...} or [...] (parsed here
  as UnionPay's SDKUtil.parseQString does). Notifications are ordinary URL-encoded form posts.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

UNIONPAY_ORGANISATION = "中国银联股份有限公司"


class ProtocolError(ValueError):
    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


# --- Signatures ---------------------------------------------------------------------------------


def sign_content(fields: dict[str, str]) -> str:
    return "&".join(f"{name}={value}" for name, value in sorted(fields.items()) if name != "signature")


def _digest(fields: dict[str, str]) -> bytes:
    return hashlib.sha256(sign_content(fields).encode("utf-8")).hexdigest().encode("ascii")


@dataclass(frozen=True)
class SigningCert:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def cert_id(self) -> str:
        return str(self.cert.serial_number)

    def sign(self, fields: dict[str, str]) -> dict[str, str]:
        """`fields` without empty values, plus certId and signature."""
        signed = {name: value for name, value in fields.items() if value != "" and name != "signature"}
        signed["certId"] = self.cert_id
        signature = self.key.sign(_digest(signed), padding.PKCS1v15(), hashes.SHA256())
        signed["signature"] = base64.b64encode(signature).decode()
        return signed


def load_signing_cert(path: str, password: str) -> SigningCert:
    """The merchant's signing key and certificate from the .pfx UnionPay issued. Raises ProtocolError."""
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(Path(path).read_bytes(), password.encode())
    except (OSError, ValueError) as exc:
        raise ProtocolError(f"cannot read the signing certificate {path!r}: {exc}", code="CONFIG") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
        raise ProtocolError(f"{path!r} holds no RSA key with its certificate", code="CONFIG")
    return SigningCert(key=key, cert=cert)


def load_cert(path: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ProtocolError(f"cannot read the certificate {path!r}: {exc}", code="CONFIG") from exc


def _valid_at(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def verify(
    fields: dict[str, str], *, root: x509.Certificate, middle: x509.Certificate, now: dt.datetime | None = None
) -> None:
    """Raise ProtocolError unless `fields` are signed by a valid UnionPay certificate of this chain."""
    now = now or dt.datetime.now(dt.UTC)
    pem = fields.get("signPubKeyCert", "")
    if not pem or not fields.get("signature"):
        raise ProtocolError("unsigned", code="UNSIGNED")
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise ProtocolError("signPubKeyCert is not a certificate", code="BAD_CERT") from exc
    if not (_valid_at(cert, now) and _valid_at(middle, now) and _valid_at(root, now)):
        raise ProtocolError("a certificate of the chain is not valid now", code="CERT_EXPIRED")
    try:
        cert.verify_directly_issued_by(middle)
        middle.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise ProtocolError("signPubKeyCert is not issued by the configured chain", code="CERT_UNTRUSTED") from exc
    if not (_is_ca(middle) and _is_ca(root)) or _is_ca(cert):
        raise ProtocolError("the chain's CA flags are wrong", code="CERT_UNTRUSTED")
    names = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    parts = str(names[0].value).split("@") if names else []
    if len(parts) < 3 or parts[2] != UNIONPAY_ORGANISATION:
        raise ProtocolError("signPubKeyCert is not UnionPay's", code="CERT_NOT_UNIONPAY")
    try:
        signature = base64.b64decode(fields["signature"], validate=True)
        cert.public_key().verify(signature, _digest(fields), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise ProtocolError("bad signature", code="BAD_SIGNATURE") from exc


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# --- Replies ------------------------------------------------------------------------------------


def parse_reply(text: str) -> dict[str, str]:
    """`k=v&k=v` with raw values; `&` and `=` inside {...} or [...] belong to the value."""
    fields: dict[str, str] = {}
    key, buffer, depth, in_value = "", [], 0, False
    for char in text + "&":
        if not in_value and char == "=":
            key, buffer, in_value = "".join(buffer), [], True
        elif in_value and depth == 0 and char == "&":
            if key in fields:
                raise ProtocolError(f"repeated field {key}", code="MALFORMED")
            fields[key] = "".join(buffer)
            key, buffer, in_value = "", [], False
        else:
            if in_value and char in "{[":
                depth += 1
            elif in_value and char in "}]" and depth:
                depth -= 1
            buffer.append(char)
    if not in_value and "".join(buffer).strip():
        raise ProtocolError("a field without a value", code="MALFORMED")
    return fields


def render_reply(fields: dict[str, str]) -> str:
    return "&".join(f"{name}={value}" for name, value in fields.items())


# --- The reconciliation file (fileType 00) -----------------------------------------------------

# The ZM (交易明细) file: one line per transaction, fixed-width fields separated by one space, in the
# layout of UnionPay's demo (DemoBase.parseZMFile). Only the fields we read are named.
ZM_WIDTHS = (
    3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2,
    6, 2, 4, 32, 1, 21, 15, 1, 15, 32, 13, 13, 8, 32, 13, 13, 12, 2, 1, 32, 98,
)  # fmt: skip
ZM_FIELDS = {
    "trace_time": 4,  # 交易传输时间 MMDDhhmmss
    "amount": 6,  # 交易金额, minor units, zero-padded
    "query_id": 9,  # 查询流水号
    "order_id": 11,  # 商户订单号
    "fee": 15,  # 商户手续费: D (we pay) or C (we receive) and 12 digits
    "txn_type": 19,  # 交易类型: 01 consume, 04 refund
    "orig_query_id": 26,  # 原交易查询流水号
    "mer_id": 27,  # 商户代码
    "orig_order_id": 40,  # 原始交易订单号
}


@dataclass(frozen=True)
class ZmRow:
    txn_type: str
    order_id: str
    orig_order_id: str
    query_id: str
    orig_query_id: str
    amount: int
    fee: int
    trace_time: str
    mer_id: str


def zm_line(values: dict[str, str]) -> str:
    """One ZM line from the named fields (the local UnionPay writes its files with this)."""
    cells = [""] * len(ZM_WIDTHS)
    for name, index in ZM_FIELDS.items():
        cells[index] = values.get(name, "")
    return " ".join(cell.ljust(width)[:width] for cell, width in zip(cells, ZM_WIDTHS, strict=True))


def zm_parse_line(line: str) -> ZmRow:
    cells, start = [], 0
    for width in ZM_WIDTHS:
        cells.append(line[start : start + width].strip())
        start += width + 1
    value = {name: cells[index] for name, index in ZM_FIELDS.items()}
    fee = value["fee"]
    if not (value["amount"].isdigit() and fee[:1] in ("C", "D") and fee[1:].isdigit()):
        raise ProtocolError(f"unreadable amount or fee in {line!r}", code="BAD_BILL")
    return ZmRow(
        txn_type=value["txn_type"],
        order_id=value["order_id"],
        orig_order_id=value["orig_order_id"],
        query_id=value["query_id"],
        orig_query_id=value["orig_query_id"],
        amount=int(value["amount"]),
        fee=int(fee[1:]) * (1 if fee[0] == "D" else -1),
        trace_time=value["trace_time"],
        mer_id=value["mer_id"],
    )


def file_content_decode(file_content: str) -> dict[str, str]:
    """fileContent: base64 of a DEFLATE-compressed zip. Returns its members' text by name."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zlib.decompress(base64.b64decode(file_content, validate=True))))
        return {member: archive.read(member).decode("utf-8") for member in archive.namelist()}
    except (binascii.Error, zlib.error, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"fileContent is not a compressed zip: {exc}", code="BAD_BILL") from exc


def file_content_encode(members: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return base64.b64encode(zlib.compress(buffer.getvalue())).decode()
