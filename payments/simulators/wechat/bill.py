"""The daily bill of the local WeChat Pay, in WeChat's text layout.

A header row; one row per payment or refund, every field prefixed with a backtick (so spreadsheets
keep long numbers intact); then a summary header and its row. Amounts in yuan; times in Beijing time.
In an ALL bill a refund is its own row, dated when it succeeded, with 交易状态 REFUND.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import HttpResponse

from knowpay.money import fen_to_yuan
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.fees import payment_fee_fen, refund_fee_fen
from payments.simulators.wechat.protocol import BEIJING, beijing
from payments.simulators.wechat.protocol import render as render_xml

# The header of each bill_type, as WeChat names the columns.
_COMMON = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额"
)
_REFUND = "微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态"
_TAIL = "商品名称,商户数据包,手续费,费率,订单金额"
LAYOUTS = {
    "ALL": f"{_COMMON},{_REFUND},{_TAIL},申请退款金额,费率备注".split(","),
    "SUCCESS": f"{_COMMON},{_TAIL},费率备注".split(","),
    "REFUND": f"{_COMMON},退款申请时间,退款成功时间,{_REFUND},{_TAIL},申请退款金额,费率备注".split(","),
}
SUMMARY = (
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
)
_FEE_RATE = "0.60%"
_TIME = "%Y-%m-%d %H:%M:%S"


def refusal(return_msg: str, error_code: str) -> HttpResponse:
    """downloadbill's unsigned XML answer when there is no bill to give."""
    body = render_xml({"return_code": "FAIL", "return_msg": return_msg, "error_code": error_code})
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _fee(fee_fen: int) -> str:
    # WeChat shows fees to five decimals of a yuan; ours are whole fen.
    return f"{fen_to_yuan(fee_fen)}000"


@dataclass(frozen=True)
class _Line:
    """One bill row, with its amounts kept in fen for the summary."""

    at: dt.datetime
    fields: dict[str, str]
    settled_fen: int = 0  # 应结订单金额
    refund_fen: int = 0  # 退款金额 and 申请退款金额
    fee_fen: int = 0  # 手续费, negative for a refund
    order_fen: int = 0  # 订单金额


def _trade_fields(trade: SimulatedTrade) -> dict[str, str]:
    return {
        "公众账号ID": trade.extra["appid"],
        "商户号": trade.merchant_id,
        "特约商户号": "0",
        "微信订单号": trade.trade_no,
        "商户订单号": trade.out_trade_no,
        "用户标识": trade.buyer_id,
        "交易类型": trade.extra["trade_type"],
        "付款银行": "OTHERS",
        "货币种类": "CNY",
        "代金券金额": "0.00",
        "充值券退款金额": "0.00",
        "商品名称": trade.subject,
        "费率": _FEE_RATE,
    }


def _payment_line(trade: SimulatedTrade) -> _Line:
    fee_fen = payment_fee_fen(trade.amount_fen)
    fields = {
        **_trade_fields(trade),
        "交易时间": beijing(trade.paid_at, _TIME),
        "交易状态": "SUCCESS",
        "应结订单金额": fen_to_yuan(trade.amount_fen),
        "退款金额": "0.00",
        "手续费": _fee(fee_fen),
        "订单金额": fen_to_yuan(trade.amount_fen),
        "申请退款金额": "0.00",
    }
    return _Line(trade.paid_at, fields, settled_fen=trade.amount_fen, fee_fen=fee_fen, order_fen=trade.amount_fen)


def _refund_line(refund: SimulatedRefund) -> _Line:
    fee_fen = -refund_fee_fen(refund)
    fields = {
        **_trade_fields(refund.trade),
        "交易时间": beijing(refund.succeeded_at, _TIME),
        "交易状态": "REFUND",
        "应结订单金额": "0.00",
        "退款申请时间": beijing(refund.created_at, _TIME),
        "退款成功时间": beijing(refund.succeeded_at, _TIME),
        "微信退款单号": refund.refund_no,
        "商户退款单号": refund.out_refund_no,
        "退款金额": fen_to_yuan(refund.amount_fen),
        "退款类型": "ORIGINAL",
        "退款状态": "SUCCESS",
        "手续费": _fee(fee_fen),
        "订单金额": "0.00",
        "申请退款金额": fen_to_yuan(refund.amount_fen),
    }
    return _Line(refund.succeeded_at, fields, refund_fen=refund.amount_fen, fee_fen=fee_fen)


def render_lines(lines: list[_Line], bill_type: str) -> str:
    columns = LAYOUTS[bill_type]
    text = [",".join(columns)]
    text += ["`" + ",`".join(line.fields.get(column, "") for column in columns) for line in lines]
    totals = (
        str(len(lines)),
        fen_to_yuan(sum(line.settled_fen for line in lines)),
        fen_to_yuan(sum(line.refund_fen for line in lines)),
        "0.00",
        _fee(sum(line.fee_fen for line in lines)),
        fen_to_yuan(sum(line.order_fen for line in lines)),
        fen_to_yuan(sum(line.refund_fen for line in lines)),
    )
    text += [",".join(SUMMARY), "`" + ",`".join(totals)]
    return "\r\n".join(text) + "\r\n"


def render(*, day: dt.date, bill_type: str, merchant_id: str) -> str | None:
    """The bill of one Beijing day, or None when nothing happened that day."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=BEIJING)
    end = start + dt.timedelta(days=1)
    lines: list[_Line] = []
    if bill_type in ("ALL", "SUCCESS"):
        trades = SimulatedTrade.objects.filter(
            gateway="wechat", merchant_id=merchant_id, paid_at__gte=start, paid_at__lt=end
        )
        lines += [_payment_line(trade) for trade in trades]
    if bill_type in ("ALL", "REFUND"):
        refunds = SimulatedRefund.objects.filter(
            trade__gateway="wechat",
            trade__merchant_id=merchant_id,
            status=SimulatedRefund.Status.SUCCEEDED,
            succeeded_at__gte=start,
            succeeded_at__lt=end,
        ).select_related("trade")
        lines += [_refund_line(refund) for refund in refunds]
    if not lines:
        return None
    return render_lines(sorted(lines, key=lambda line: line.at), bill_type)
