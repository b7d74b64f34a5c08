"""Receipts: a printable page and a PDF for every paid order, for its buyer and staff who may view orders."""

import base64
import re
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from payments.models import Order, Payment, Refund
from tests.factories import CourseFactory, OrderFactory, PaymentFactory, RefundFactory, UserFactory

pytestmark = pytest.mark.django_db

TRADE_NO = "2026112222001400000000000001"


@pytest.fixture
def paid_order(learner):
    course = CourseFactory(title="Python 入门 Intro", price_fen=1290)
    order = OrderFactory(learner=learner, course=course, status=Order.Status.PAID, paid_at=timezone.now())
    PaymentFactory(
        order=order,
        channel="alipay",
        method="page",
        status=Payment.Status.SUCCEEDED,
        succeeded_at=timezone.now(),
        gateway_trade_no=TRADE_NO,
    )
    return order


def _receipt(client, order, suffix="receipt/"):
    return client.get(f"/orders/{order.order_no}/{suffix}")


def pdf_text(data: bytes) -> str:
    """The content streams of a PDF, decoded (reportlab writes ASCII85 over Flate), as text."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        stream = stream.strip()
        if stream.endswith(b"~>"):
            stream = base64.a85decode(stream[:-2])
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            chunks.append(stream)
    return b"\n".join(chunks).decode("latin-1")


def test_the_buyer_sees_the_receipt_with_order_product_amount_gateway_and_trade_number(client, learner, paid_order):
    client.force_login(learner)

    page = _receipt(client, paid_order).text

    for expected in (paid_order.order_no, "Python 入门 Intro", "¥12.90", "Alipay", TRADE_NO):
        assert expected in page


def test_the_receipt_lists_refunds_and_what_was_paid_in_the_end(client, learner, paid_order):
    payment = paid_order.payments.get()
    RefundFactory(payment=payment, amount_fen=290, status=Refund.Status.SUCCEEDED, succeeded_at=timezone.now())
    RefundFactory(payment=payment, amount_fen=100, status=Refund.Status.REJECTED)
    client.force_login(learner)

    page = _receipt(client, paid_order).text

    assert "Refunded" in page
    assert "\N{MINUS SIGN}¥2.90" in page
    assert "¥10.00" in page  # paid in the end
    assert "¥1.00" not in page  # a rejected request moved no money


def test_the_receipt_page_prints_without_the_site_around_it(client, learner, paid_order):
    client.force_login(learner)

    page = _receipt(client, paid_order).text

    assert "css/receipt.css" in page
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "receipt.css").read_text()
    assert "@media print" in css


def test_the_receipt_pdf_carries_the_same_facts(client, learner, paid_order):
    client.force_login(learner)

    response = _receipt(client, paid_order, "receipt.pdf")

    assert response["Content-Type"] == "application/pdf"
    assert f'filename="receipt-{paid_order.order_no}.pdf"' in response["Content-Disposition"]
    data = b"".join(response.streaming_content) if response.streaming else response.content
    assert data.startswith(b"%PDF-")
    assert b"/STSong-Light" in data  # Chinese text in a font every PDF reader has
    text = pdf_text(data)
    for expected in (paid_order.order_no, TRADE_NO, "12.90"):
        assert expected in text


@pytest.mark.parametrize("suffix", ["receipt/", "receipt.pdf"])
def test_another_learner_gets_404(client, paid_order, suffix):
    client.force_login(UserFactory())

    assert _receipt(client, paid_order, suffix).status_code == 404


@pytest.mark.parametrize("suffix", ["receipt/", "receipt.pdf"])
def test_staff_without_permission_to_view_orders_get_404(client, paid_order, suffix):
    client.force_login(UserFactory(is_staff=True))

    assert _receipt(client, paid_order, suffix).status_code == 404


@pytest.mark.parametrize("suffix", ["receipt/", "receipt.pdf"])
def test_staff_who_may_view_orders_see_it(client, paid_order, suffix):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_order", content_type__app_label="payments"))
    client.force_login(staff)

    assert _receipt(client, paid_order, suffix).status_code == 200


def test_an_unpaid_order_has_no_receipt(client, learner):
    order = OrderFactory(learner=learner)
    client.force_login(learner)

    assert _receipt(client, order).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, paid_order):
    response = _receipt(client, paid_order)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_paid_order_pages_link_to_the_receipt(client, learner, paid_order):
    client.force_login(learner)

    for page in ("/orders/", f"/orders/{paid_order.order_no}/"):
        assert f"/orders/{paid_order.order_no}/receipt/" in client.get(page).text
