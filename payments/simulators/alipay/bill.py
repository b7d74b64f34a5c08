"""The local Alipay's daily trade bill, laid out as Alipay publishes it.

A zip (`<PID>_<yyyymmdd>.csv.zip`) of two GBK-encoded CSV files with CRLF line ends: the detail
(`<PID>_<yyyymmdd>_业务明细.csv`) and the summary (`..._业务明细(汇总).csv`). Each wraps its table in
`#` lines: title, account and period above; totals and export time below. Long numbers end in a
tab, so that spreadsheets keep them as text. Payments are `交易` rows; refunds are `退款` rows with
negative amounts and the merchant's refund request number. The service fee (payments.simulators.fees)
is negative on a payment and positive, given back, on a refund.
"""

# Alipay's own texts use full-width punctuation: "订单金额（元）", "#账号：[...]".
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

from django.core import signing
from django.utils import timezone

from knowpay.money import fen_to_yuan
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.alipay.protocol import BEIJING, GATEWAY, app_id, seller_id
from payments.simulators.fees import payment_fee_fen, refund_fee_fen

BILL_URL_SALT = "alipay-simulator-bill"
# Alipay's bill download links stop working 30 seconds after they are issued.
BILL_URL_LIFETIME = dt.timedelta(seconds=30)
DETAIL_HEADER = [
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员",
    "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）",
    "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号",
    "服务费（元）", "分润（元）", "备注",
]  # fmt: skip
SUMMARY_HEADER = [
    "门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）", "商家实收（元）", "支付宝优惠（元）",
    "商家优惠（元）", "卡消费金额（元）", "服务费（元）", "分润（元）", "实收净额（元）",
]  # fmt: skip
RULE = "-" * 41


def bill_token(day: dt.date) -> str:
    return signing.dumps({"app_id": app_id(), "day": day.isoformat()}, salt=BILL_URL_SALT)


def bill_day(token: str) -> dt.date | None:
    """The day a download token is for, while it is still valid."""
    try:
        data = signing.loads(token, salt=BILL_URL_SALT, max_age=BILL_URL_LIFETIME)
    except signing.BadSignature:
        return None
    return dt.date.fromisoformat(data["day"])


def _time(moment: dt.datetime) -> str:
    return timezone.localtime(moment, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _row(trade: SimulatedTrade, *, kind: str, done_at: dt.datetime, fen: int, fee: int, refund_no: str = ""):
    blank, zeros = [""] * 4, ["0.00"] * 5
    return [
        f"{trade.trade_no}\t", f"{trade.out_trade_no}\t", kind, trade.subject, _time(trade.created_at),
        _time(done_at), *blank, trade.extra.get("buyer_logon_id", ""), fen_to_yuan(fen), fen_to_yuan(fen),
        *zeros, "", "0.00", "0.00", f"{refund_no}\t" if refund_no else "", fen_to_yuan(fee), "0.00", "",
    ]  # fmt: skip


def _csv(lines_before: list[str], header: list[str], rows: list[list[str]], lines_after: list[str]) -> bytes:
    out = io.StringIO()
    for line in lines_before:
        out.write(f"{line}\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    for line in lines_after:
        out.write(f"{line}\r\n")
    return out.getvalue().encode("gbk", errors="replace")


def bill_archive(day: dt.date) -> tuple[str, bytes]:
    """The zip file name and bytes of the trade bill of `day` (Beijing time)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=BEIJING)
    end = start + dt.timedelta(days=1)
    trades = SimulatedTrade.objects.filter(gateway=GATEWAY, merchant_id=app_id(), paid_at__gte=start, paid_at__lt=end)
    refunds = SimulatedRefund.objects.filter(
        trade__gateway=GATEWAY, trade__merchant_id=app_id(), succeeded_at__gte=start, succeeded_at__lt=end
    ).select_related("trade")
    rows, paid, refunded, fees = [], 0, 0, 0
    for trade in trades.order_by("paid_at"):
        fee = payment_fee_fen(trade.amount_fen)
        rows.append(_row(trade, kind="交易", done_at=trade.paid_at, fen=trade.amount_fen, fee=-fee))
        paid, fees = paid + trade.amount_fen, fees - fee
    refund_list = list(refunds.order_by("succeeded_at"))
    for refund in refund_list:
        fee = refund_fee_fen(refund)
        rows.append(
            _row(
                refund.trade,
                kind="退款",
                done_at=refund.succeeded_at,
                fen=-refund.amount_fen,
                fee=fee,
                refund_no=refund.out_refund_no,
            )
        )
        refunded, fees = refunded + refund.amount_fen, fees + fee
    period = f"#起始日期：[{start:%Y年%m月%d日 %H:%M:%S}]   终止日期：[{end:%Y年%m月%d日 %H:%M:%S}]"
    exported = f"#导出时间：[{timezone.localtime(timezone.now(), BEIJING):%Y年%m月%d日 %H:%M:%S}]"
    detail = _csv(
        ["#支付宝业务明细查询", f"#账号：[{seller_id()}]", period, f"#{RULE}业务明细列表{RULE}"],
        DETAIL_HEADER,
        rows,
        [
            f"#{RULE}业务明细列表结束{RULE}",
            f"#交易合计：{trades.count()}笔，商家实收共{fen_to_yuan(paid)}元，商家优惠共0.00元",
            f"#退款合计：{len(refund_list)}笔，商家实收退款共{fen_to_yuan(-refunded)}元，商家优惠退款共0.00元",
            exported,
        ],
    )
    net = paid - refunded + fees
    summary = _csv(
        ["#支付宝业务汇总查询", f"#账号：[{seller_id()}]", period, f"#{RULE}业务汇总列表{RULE}"],
        SUMMARY_HEADER,
        [
            [
                "合计",
                "",
                str(trades.count()),
                str(len(refund_list)),
                fen_to_yuan(paid - refunded),
                fen_to_yuan(paid - refunded),
                "0.00",
                "0.00",
                "0.00",
                fen_to_yuan(fees),
                "0.00",
                fen_to_yuan(net),
            ]
        ],
        [f"#{RULE}业务汇总列表结束{RULE}", exported],
    )
    stem = f"{seller_id()}_{day:%Y%m%d}"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"{stem}_业务明细.csv", detail)
        bundle.writestr(f"{stem}_业务明细(汇总).csv", summary)
    return f"{stem}.csv.zip", archive.getvalue()
