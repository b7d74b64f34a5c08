"""Alipay's trade bill: the local Alipay's file and our parser, both in Alipay's layout."""

# Alipay's own texts use full-width punctuation: "订单金额（元）", "#账号：[...]".
# ruff: noqa: RUF001, RUF003

import datetime as dt
import io
import zipfile

import pytest
from django.utils import timezone

from payments.gateways.alipay.bill import BEIJING, parse_trade_bill
from payments.gateways.base import GatewayResponseInvalid, StatementEntryKind
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.alipay import bill

DAY = dt.date(2026, 11, 21)
ASCII_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额(元),商家实收(元),支付宝红包(元),集分宝(元),支付宝优惠(元),商家优惠(元),券核销金额(元),券名称,"
    "商家红包消费金额(元),卡消费金额(元),退款批次号/请求号,服务费(元),分润(元),备注"
)
HEADER = ASCII_HEADER.replace("(", "（").replace(")", "）")
PAYMENT_ROW = (
    "2026112122001400001234567890\t,KP20261121000000000001P01\t,交易,课程,2026-11-21 11:59:00,2026-11-21 12:00:00,"
    ",,,,138****0000,12.90,12.90,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-0.08,0.00,"
)


def zipped(*files: tuple[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files:
            archive.writestr(name, text.encode("gbk"))
    return out.getvalue()


def detail(*rows: str, header: str = HEADER) -> str:
    lines = ["#支付宝业务明细查询", "#账号：[2088000000000001]", f"#{'-' * 41}业务明细列表{'-' * 41}", header, *rows]
    return (
        "\r\n".join([*lines, f"#{'-' * 41}业务明细列表结束{'-' * 41}", "#交易合计：1笔", "#导出时间：[...]"]) + "\r\n"
    )


@pytest.fixture
def paid_and_refunded(db):
    moment = dt.datetime.combine(DAY, dt.time(12, 0), tzinfo=BEIJING)
    trade = SimulatedTrade.objects.create(
        gateway="alipay",
        merchant_id="2021000000000001",
        out_trade_no="KP20261121000000000001P01",
        trade_no="2026112122001400001234567890",
        amount_fen=1290,
        subject="Python, 入门",
        status=SimulatedTrade.Status.PAID,
        paid_at=moment,
    )
    SimulatedRefund.objects.create(
        trade=trade, out_refund_no="KP20261121000000000001R01", refund_no="X1", amount_fen=300, succeeded_at=moment
    )
    return trade


def test_local_alipay_bill_is_a_zip_of_two_gbk_files_with_alipays_comment_lines(paid_and_refunded):
    name, data = bill.bill_archive(DAY)

    archive = zipfile.ZipFile(io.BytesIO(data))
    assert name == "2088000000000001_20261121.csv.zip"
    assert sorted(archive.namelist()) == [
        "2088000000000001_20261121_业务明细(汇总).csv",
        "2088000000000001_20261121_业务明细.csv",
    ]
    text = archive.read("2088000000000001_20261121_业务明细.csv").decode("gbk")
    lines = text.split("\r\n")
    assert lines[0] == "#支付宝业务明细查询"
    assert lines[1] == "#账号：[2088000000000001]"
    assert lines[4].startswith("支付宝交易号,商户订单号,业务类型")
    assert any(line.startswith("#交易合计：1笔，商家实收共12.90元") for line in lines)
    assert any(line.startswith("#退款合计：1笔，商家实收退款共-3.00元") for line in lines)


def test_our_parser_reads_the_local_alipay_bill(paid_and_refunded):
    _, data = bill.bill_archive(DAY)

    entries = parse_trade_bill(data)

    assert [(e.kind, e.out_trade_no, e.amount_fen, e.out_refund_no) for e in entries] == [
        (StatementEntryKind.PAYMENT, "KP20261121000000000001P01", 1290, ""),
        (StatementEntryKind.REFUND, "KP20261121000000000001P01", 300, "KP20261121000000000001R01"),
    ]
    assert entries[0].gateway_trade_no == "2026112122001400001234567890"
    assert entries[0].occurred_at == dt.datetime(2026, 11, 21, 12, 0, tzinfo=BEIJING)
    # 服务费: 0.6% of 12.90 kept (7.74, rounded), and of it 8 x 3.00 / 12.90 = 1.86 given back.
    assert [e.fee_fen for e in entries] == [8, 2]


def test_partial_refunds_give_back_the_fee_pro_rata_and_never_more_than_it(paid_and_refunded):
    trade = paid_and_refunded
    trade.refunds.all().delete()
    moment = dt.datetime.combine(DAY, dt.time(13, 0), tzinfo=BEIJING)
    for n in range(3):  # three refunds of 4.30: rounding each alone would give back 3 + 3 + 3 of a fee of 8
        SimulatedRefund.objects.create(
            trade=trade,
            out_refund_no=f"KP20261121000000000001R0{n + 1}",
            refund_no=f"X{n}",
            amount_fen=430,
            succeeded_at=moment + dt.timedelta(minutes=n),
        )

    entries = parse_trade_bill(bill.bill_archive(DAY)[1])

    assert [e.fee_fen for e in entries] == [8, 3, 2, 3]


def test_bill_covers_the_beijing_day_only(paid_and_refunded):
    SimulatedTrade.objects.filter(pk=paid_and_refunded.pk).update(
        paid_at=dt.datetime.combine(DAY, dt.time(23, 59), tzinfo=BEIJING) + dt.timedelta(minutes=2)
    )

    entries = parse_trade_bill(bill.bill_archive(DAY)[1])

    assert [e.kind for e in entries] == [StatementEntryKind.REFUND]


def test_parser_accepts_ascii_parentheses_and_padded_cells():
    (entry,) = parse_trade_bill(zipped(("a.csv", detail(PAYMENT_ROW, header=ASCII_HEADER))))

    assert (entry.out_trade_no, entry.amount_fen, entry.fee_fen) == ("KP20261121000000000001P01", 1290, 8)


def test_parser_finds_the_detail_file_by_its_title_whatever_the_member_names():
    summary = "#支付宝业务汇总查询\r\n门店编号,合计\r\n"

    entries = parse_trade_bill(zipped(("\u00c9\u00ea.csv", summary), ("other.csv", detail(PAYMENT_ROW))))

    assert len(entries) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"not a zip",
        zipped(("summary.csv", "#支付宝业务汇总查询\r\n")),
        zipped(("a.csv", detail(PAYMENT_ROW.replace(",交易,", ",冻结,")))),
        zipped(("a.csv", detail(PAYMENT_ROW.replace(",12.90,12.90,", ",12.9x,12.90,")))),
        zipped(("a.csv", detail(PAYMENT_ROW.replace("2026-11-21 12:00:00", "yesterday")))),
    ],
    ids=["not-zip", "no-detail", "unknown-kind", "bad-amount", "bad-time"],
)
def test_unreadable_bill_is_invalid(data):
    with pytest.raises(GatewayResponseInvalid):
        parse_trade_bill(data)


def test_bill_download_link_expires_after_thirty_seconds(monkeypatch):
    token = bill.bill_token(DAY)
    assert bill.bill_day(token) == DAY
    later = timezone.now().timestamp() + 31

    monkeypatch.setattr("django.core.signing.time.time", lambda: later)

    assert bill.bill_day(token) is None
