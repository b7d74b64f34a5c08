"""Alipay's daily trade bill (`bill_type=trade`): a zip of GBK-encoded CSV files.

The zip holds the detail file (`<account>_<yyyymmdd>_业务明细.csv`) and a summary
(`..._业务明细(汇总).csv`). Each file wraps its table in `#` comment lines: a title, the account and
the period before it, totals and the export time after it. Member names inside the zip are GBK
without the UTF-8 flag in Alipay's own files, so the detail file is recognised by its title line.
Cells are padded with tabs or spaces (so spreadsheets keep long numbers as text). The service fee
(服务费) is negative on a payment (Alipay kept it) and positive on a refund (it gave it back).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from zoneinfo import ZoneInfo

from knowpay.money import yuan_to_fen
from payments.gateways.base import GatewayResponseInvalid, StatementEntry, StatementEntryKind

BEIJING = ZoneInfo("Asia/Shanghai")
DETAIL_TITLE = "#支付宝业务明细查询"
_KINDS = {"交易": StatementEntryKind.PAYMENT, "退款": StatementEntryKind.REFUND}


def _invalid(message: str) -> GatewayResponseInvalid:
    return GatewayResponseInvalid(f"alipay bill: {message}", code="BAD_BILL")


def _detail_text(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        texts = [archive.read(member).decode("gbk") for member in archive.infolist()]
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
        raise _invalid(f"not a zip of GBK files: {exc}") from exc
    for text in texts:
        if text.lstrip("\ufeff").startswith(DETAIL_TITLE):
            return text
    raise _invalid("no detail file in the archive")


# Alipay writes full-width parentheses in headers; copies of bills often carry ASCII ones.
_ASCII_PARENTHESES = str.maketrans("\uff08\uff09", "()")


def _column(name: str) -> str:
    return name.strip().translate(_ASCII_PARENTHESES)


def parse_trade_bill(data: bytes) -> list[StatementEntry]:
    """The payments and refunds listed in a downloaded trade bill. Raises GatewayResponseInvalid."""
    table = [line for line in _detail_text(data).splitlines() if line.strip() and not line.startswith("#")]
    if not table:
        raise _invalid("the detail file has no header row")
    rows = csv.reader(table)
    header = [_column(name) for name in next(rows)]
    entries = []
    for row in rows:
        record = dict(zip(header, (cell.strip() for cell in row), strict=False))
        try:
            kind = _KINDS[record["业务类型"]]
            fee_fen = yuan_to_fen(record["服务费(元)"])
            if kind == StatementEntryKind.PAYMENT:
                amount_fen = yuan_to_fen(record["订单金额(元)"])
                fee_fen = -fee_fen
            else:
                # Refund rows carry negative amounts; what left the merchant is "商家实收".
                amount_fen = -yuan_to_fen(record["商家实收(元)"])
            occurred_at = dt.datetime.strptime(record["完成时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
            entry = StatementEntry(
                kind=kind,
                out_trade_no=record["商户订单号"],
                gateway_trade_no=record["支付宝交易号"],
                out_refund_no=record.get("退款批次号/请求号", "") if kind == StatementEntryKind.REFUND else "",
                amount_fen=amount_fen,
                occurred_at=occurred_at,
                fee_fen=fee_fen,
            )
        except (KeyError, ValueError) as exc:
            raise _invalid(f"unreadable row {row!r}: {exc!r}") from exc
        if amount_fen <= 0 or fee_fen < 0 or not entry.out_trade_no:
            raise _invalid(f"non-positive amount, a fee in the wrong direction or no order number in row {row!r}")
        entries.append(entry)
    return entries
