"""Receipts and payout statements as PDF, with reportlab.

reportlab installs from a pure-Python wheel (no system libraries, unlike WeasyPrint's Pango) and
writes Chinese with STSong-Light, one of the Adobe CID fonts every PDF reader provides, so no
font file ships with us and the PDF stays a few kilobytes. Text that may be Chinese (the product,
the people) is set in STSong-Light; numbers and labels in Helvetica.
"""

from __future__ import annotations

import io
from functools import cache

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from knowpay.money import format_cny
from payments.selectors.payouts import PayoutStatement
from payments.selectors.receipts import Receipt

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return {
        "title": ParagraphStyle("title", fontName=CJK_FONT, fontSize=18, leading=24, spaceAfter=4 * mm),
        "label": ParagraphStyle("label", fontName=LATIN_FONT, fontSize=9, leading=12, textColor=colors.grey),
        "value": ParagraphStyle("value", fontName=LATIN_FONT, fontSize=10, leading=13),
        "text": ParagraphStyle("text", fontName=CJK_FONT, fontSize=10, leading=14, wordWrap="CJK"),
        "amount": ParagraphStyle("amount", fontName=LATIN_FONT, fontSize=10, leading=13, alignment=2),
        "total": ParagraphStyle("total", fontName=LATIN_BOLD, fontSize=11, leading=14, alignment=2),
    }


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _paragraph(text: str, style: str) -> Paragraph:
    # Paragraph reads a little markup; our values are plain text.
    return Paragraph(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), _styles()[style])


def _document(buffer: io.BytesIO, *, title: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="KnowPay",
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
    )


def receipt_pdf(receipt: Receipt) -> bytes:
    p = _paragraph

    facts = [
        ("Order no.", p(receipt.order_no, "value")),
        ("Paid at", p(_when(receipt.paid_at), "value")),
        ("Buyer", p(receipt.buyer, "text")),
        ("Seller", p(receipt.seller, "text")),
        ("Paid with", p(f"{receipt.gateway} ({receipt.method})", "value")),
        ("Gateway trade no.", p(receipt.gateway_trade_no or "-", "value")),
        ("Payment no.", p(receipt.out_trade_no, "value")),
    ]
    amounts = [[p(line.label, "text"), p(format_cny(line.amount_fen), "amount")] for line in receipt.lines]
    amounts.append([p("Total paid", "value"), p(format_cny(receipt.total_fen), "total")])
    for refund in receipt.refunds:
        amounts.append(
            [
                p(f"Refunded {_when(refund.refunded_at)} ({refund.refund_no})", "value"),
                p(f"-{format_cny(refund.amount_fen)}", "amount"),
            ]
        )
    if receipt.refunds:
        amounts.append([p("Paid after refunds", "value"), p(format_cny(receipt.net_fen), "total")])

    facts_table = Table([[p(label, "label"), value] for label, value in facts], colWidths=[40 * mm, 120 * mm])
    facts_table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    amounts_table = Table(amounts, colWidths=[120 * mm, 40 * mm])
    amounts_table.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, len(receipt.lines)), (-1, len(receipt.lines)), 0.5, colors.black),
                ("LINEBELOW", (0, -1), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    buffer = io.BytesIO()
    document = _document(buffer, title=f"Receipt {receipt.order_no}")
    document.build(
        [
            p("KnowPay 知识付费   收据 / Receipt", "title"),
            facts_table,
            Spacer(1, 8 * mm),
            amounts_table,
        ]
    )
    return buffer.getvalue()


def payout_statement_pdf(statement: PayoutStatement) -> bytes:
    """The payout's facts, then one row per sale it pays (with that sale's refunds), then the total."""
    p = _paragraph
    payout = statement.payout
    facts = [
        ("Payout no.", p(payout.payout_no, "value")),
        ("Creator", p(statement.creator_name, "text")),
        ("Requested", p(_when(payout.created_at), "value")),
        ("Status", p(payout.get_status_display(), "value")),
    ]
    if payout.paid_at:
        facts.append(("Paid", p(f"{_when(payout.paid_at)} {payout.transfer_no or payout.bank_reference}", "value")))
    rows = [[p(label, "label") for label in ("Sale", "Order / product", "Gross", "Fee", "Your share", "Paid now")]]
    for line in statement.lines:
        rows.append(
            [
                p(_when(line.paid_at), "value"),
                p(f"{line.order_no} {line.product}", "text"),
                p(format_cny(line.gross_fen), "amount"),
                p(format_cny(line.fee_fen), "amount"),
                p(format_cny(line.share_fen), "amount"),
                p(format_cny(line.paid_fen), "amount"),
            ]
        )
        for refund in line.refunds:
            rows.append(
                [
                    p(_when(refund.refunded_at), "value"),
                    p(f"Refund {refund.refund_no} of {format_cny(refund.amount_fen)}", "value"),
                    "",
                    "",
                    p(f"-{format_cny(refund.from_creator_fen)}", "amount"),
                    "",
                ]
            )
    rows.append(["", p("Total of this payout", "value"), "", "", "", p(format_cny(statement.total_fen), "total")])
    facts_table = Table([[p(label, "label"), value] for label, value in facts], colWidths=[40 * mm, 120 * mm])
    lines_table = Table(rows, colWidths=[28 * mm, 52 * mm, 20 * mm, 18 * mm, 22 * mm, 20 * mm], repeatRows=1)
    lines_table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    buffer = io.BytesIO()
    _document(buffer, title=f"Statement {payout.payout_no}").build(
        [p("KnowPay 知识付费   结算单 / Payout statement", "title"), facts_table, Spacer(1, 8 * mm), lines_table]
    )
    return buffer.getvalue()
