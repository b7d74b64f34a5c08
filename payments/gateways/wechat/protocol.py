"""WeChat Pay API v2 messages on our side: strict XML, signatures, the refund req_info, the bill.

wechatpy leaves these gaps (see GATEWAYS.md): it never verifies reply signatures, verifies
notifications with MD5 only, parses XML that declares a DTD, and decrypts req_info without
checking its padding. Everything here is strict: anything unexpected raises ProtocolError.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from xml.parsers import expat
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from knowpay.money import MoneyFormatError, yuan_to_fen

BEIJING = ZoneInfo("Asia/Shanghai")
SIGN_TYPES = ("MD5", "HMAC-SHA256")


class ProtocolError(ValueError):
    """A message that is not well-formed WeChat Pay v2, or does not verify."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


# --- XML --------------------------------------------------------------------------------------


def xml_fields(body: bytes, *, root: str = "xml") -> dict[str, str]:
    """The fields of a flat v2 message `<root><name>value</name>...</root>`.

    Refuses a DTD or entity declaration (no expansion tricks), nested elements and repeated
    fields: v2 messages have none, and a repeated field would make "which one was signed" ambiguous.
    """
    fields: dict[str, str] = {}
    path: list[str] = []
    text: list[str] = []

    def refuse_dtd(*args):
        raise ProtocolError("a DTD or entity declaration is not allowed", code="MALFORMED")

    def start(name, attrs):
        if not path and name != root:
            raise ProtocolError(f"root element is <{name}>, not <{root}>", code="MALFORMED")
        if len(path) == 2:
            raise ProtocolError(f"nested element <{name}>", code="MALFORMED")
        path.append(name)
        text.clear()

    def end(name):
        path.pop()
        if path:
            if name in fields:
                raise ProtocolError(f"repeated field <{name}>", code="MALFORMED")
            fields[name] = "".join(text)

    def characters(data):
        if len(path) == 2:
            text.append(data)

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise ProtocolError(f"not XML: {exc}", code="MALFORMED") from exc
    return fields


def xml_render(fields: dict[str, str]) -> str:
    """`<xml>` with each field in CDATA, as WeChat writes its own messages."""
    parts = "".join(
        f"<{name}><![CDATA[{value.replace(']]>', ']]]]><![CDATA[>')}]]></{name}>" for name, value in fields.items()
    )
    return f"<xml>{parts}</xml>"


# --- Signatures -------------------------------------------------------------------------------


def sign(fields: dict[str, str], *, key: str, sign_type: str) -> str:
    """Sorted non-empty `k=v` pairs except `sign`, then `&key=<api key>`; MD5 or HMAC-SHA256, upper hex."""
    unsigned = {name: value for name, value in fields.items() if name != "sign"}
    if sign_type == "HMAC-SHA256":
        return calculate_signature_hmac(unsigned, key)
    if sign_type == "MD5":
        return calculate_signature(unsigned, key)
    raise ProtocolError(f"unknown sign type {sign_type!r}", code="SIGN_TYPE")


def verify(fields: dict[str, str], *, key: str, sign_type: str) -> None:
    """Raise unless `fields` carry a valid signature of `sign_type` (the one we configured)."""
    given = fields.get("sign", "")
    if not given:
        raise ProtocolError("unsigned", code="UNSIGNED")
    if not hmac.compare_digest(given.encode(), sign(fields, key=key, sign_type=sign_type).encode()):
        raise ProtocolError("bad signature", code="BAD_SIGNATURE")


# --- Refund notification ----------------------------------------------------------------------


def decrypt_req_info(req_info: str, *, key: str) -> dict[str, str]:
    """The fields of a refund notification's req_info: base64(AES-256-ECB(xml)), key = md5(api key) hex."""
    try:
        ciphertext = base64.b64decode(req_info, validate=True)
    except binascii.Error as exc:
        raise ProtocolError("req_info is not base64", code="MALFORMED") from exc
    if not ciphertext or len(ciphertext) % 16:
        raise ProtocolError("req_info is not whole AES blocks", code="MALFORMED")
    aes_key = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest().encode()
    decryptor = Cipher(algorithms.AES(aes_key), modes.ECB()).decryptor()  # noqa: S305 (the protocol's mode)
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        # The usual sign of a wrong key: the last block decrypts to noise.
        raise ProtocolError("req_info does not decrypt with our key", code="BAD_ENCRYPTION") from exc
    return xml_fields(plain, root="root")


# --- Values -----------------------------------------------------------------------------------


def fen(value: str | None, *, name: str) -> int:
    if not value or not value.isascii() or not value.isdigit():
        raise ProtocolError(f"{name} is not an amount in fen: {value!r}", code="MALFORMED")
    return int(value)


def beijing_time(value: str | None, *, name: str, layout: str = "%Y%m%d%H%M%S") -> dt.datetime:
    try:
        return dt.datetime.strptime(value or "", layout).replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise ProtocolError(f"{name} is not a time: {value!r}", code="MALFORMED") from exc


def beijing_stamp(moment: dt.datetime) -> dt.datetime:
    """`moment` in Beijing time, which WeChat reads every time field in (time_expire, time_end)."""
    return moment.astimezone(BEIJING)


# --- Bill -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillRow:
    status: str  # 交易状态: SUCCESS for a payment, REFUND for a refund
    out_trade_no: str
    transaction_id: str
    out_refund_no: str
    refund_status: str
    amount_fen: int
    occurred_at: dt.datetime
    fee_fen: int  # 手续费: positive on a payment (kept), negative on a refund (given back)


# Columns we read, by the header's own names; later layouts renamed some (总金额 → 订单金额).
_PAYMENT_AMOUNT = ("订单金额", "总金额")
_REFUND_AMOUNT = ("申请退款金额", "退款金额")
_REFUND_TIME = ("退款成功时间", "交易时间")


def bill_parse(text: str) -> list[BillRow]:
    """Parse a downloadbill text: a header row, rows of backtick-prefixed fields, a summary.

    The summary's transaction count must match the rows, so a cut-off download is caught.
    """
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    try:
        summary_at = next(i for i, line in enumerate(lines) if line.startswith("总交易单数"))
        header, rows = lines[0].split(","), lines[1:summary_at]
        count = int(_bill_fields(lines[summary_at + 1])[0])
        parsed = [(dict(zip(header, _bill_fields(line), strict=True)), line) for line in rows]
    except (StopIteration, IndexError, ValueError) as exc:
        raise ProtocolError(f"bill layout unreadable: {exc}", code="BAD_BILL") from exc
    if count != len(rows):
        raise ProtocolError(f"bill summary says {count} rows, found {len(rows)}", code="BAD_BILL")
    return [_bill_row(row, line) for row, line in parsed]


def _bill_fields(line: str) -> list[str]:
    if not line.startswith("`"):
        raise ValueError(f"bill line without backtick fields: {line!r}")
    return line[1:].split(",`")


def _fee_fen(text: str) -> int:
    """手续费 is written to five decimals of a yuan ("0.08000"); WeChat charges whole fen."""
    whole, _, rest = text.partition(".")
    if len(rest) != 5 or rest[2:] != "000":
        raise MoneyFormatError(f"手续费 is not a whole number of fen: {text!r}")
    return yuan_to_fen(f"{whole}.{rest[:2]}")


def _bill_row(row: dict[str, str], line: str) -> BillRow:
    def first(names: tuple[str, ...]) -> str:
        return next((row[name] for name in names if row.get(name)), "")

    try:
        status = row["交易状态"]
        refund = status == "REFUND"
        return BillRow(
            status=status,
            out_trade_no=row["商户订单号"],
            transaction_id=row["微信订单号"],
            out_refund_no=row.get("商户退款单号", "") if refund else "",
            refund_status=row.get("退款状态", ""),
            amount_fen=yuan_to_fen(first(_REFUND_AMOUNT if refund else _PAYMENT_AMOUNT)),
            occurred_at=beijing_time(
                first(_REFUND_TIME) if refund else row["交易时间"], name="交易时间", layout="%Y-%m-%d %H:%M:%S"
            ),
            fee_fen=_fee_fen(row["手续费"]),
        )
    except (KeyError, MoneyFormatError, ProtocolError) as exc:
        raise ProtocolError(f"bill row unreadable ({exc}): {line!r}", code="BAD_BILL") from exc


def notify_reply_xml(*, accepted: bool, message: str) -> str:
    code = "SUCCESS" if accepted else "FAIL"
    return xml_render({"return_code": code, "return_msg": "OK" if accepted else (message or "FAIL")})
