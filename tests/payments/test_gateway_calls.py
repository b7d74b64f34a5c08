"""Every outbound gateway call leaves a record: channel, operation, our ids, outcome, code, duration;
never a secret. The record outlives a business transaction that rolls back. Staff see it on the
order's money trail."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from knowpay.money import fen_to_yuan
from payments.gateways import gateway_get
from payments.gateways.base import GatewayUnavailable, PaymentRequest, TradeNotFound, TransferRequest
from payments.models import GatewayCall
from payments.services.checkout import notify_url
from payments.services.refunds import refund_issue
from tests.factories import UserFactory
from tests.payments.browser import Browser
from tests.payments.conftest import sandbox_notification_body

pytestmark = pytest.mark.django_db(transaction=True)


def request_for(payment, site_url):
    return PaymentRequest(
        out_trade_no=payment.out_trade_no,
        amount_fen=payment.amount_fen,
        subject="A course",
        method="page",
        notify_url=notify_url("sandbox"),
        return_url=f"{site_url}/",
        expires_at=payment.order.expires_at,
        client_ip="127.0.0.1",
    )


def paid(site, payment):
    start = gateway_get("sandbox").start_payment(request_for(payment, site.url))
    browser = Browser(site.url)
    browser.submit(browser.get(start.url), "/pay/")


def test_a_query_is_recorded_with_our_trade_number_outcome_and_duration(gateway_site, payment):
    paid(gateway_site, payment)

    gateway_get("sandbox").query_payment(payment.out_trade_no)

    call = GatewayCall.objects.get(operation=GatewayCall.Operation.QUERY_PAYMENT)
    assert (call.channel, call.out_trade_no, call.outcome) == ("sandbox", payment.out_trade_no, "ok")
    assert call.result.startswith(f"paid {fen_to_yuan(payment.amount_fen)} CNY SUCCESS")
    assert call.duration_ms >= 0
    assert call.started_at <= timezone.now()


def test_a_refusal_is_recorded_with_the_gateways_code(gateway_site):
    with pytest.raises(TradeNotFound):
        gateway_get("sandbox").query_payment("KP20260101000000000404P01")

    call = GatewayCall.objects.get()
    assert (call.operation, call.outcome, call.code) == ("query_payment", "rejected", "TRADE_NOT_FOUND")
    assert "TradeNotFound" in call.error


def test_no_answer_is_recorded_as_unavailable(gateway_site, settings):
    settings.SANDBOX_SERVER_URL = "http://127.0.0.1:9/sandbox/sandbox/"

    with pytest.raises(GatewayUnavailable):
        gateway_get("sandbox").close_payment("KP20260101000000000001P01")

    call = GatewayCall.objects.get()
    assert (call.operation, call.outcome, call.code) == ("close_payment", "unavailable", "NETWORK")


def test_a_refund_is_recorded_under_our_refund_number(gateway_site, payment, post_notify):
    paid(gateway_site, payment)

    refund = refund_issue(order=payment.order, staff=UserFactory(is_staff=True), amount_fen=290, reason="partial")

    call = GatewayCall.objects.get(operation=GatewayCall.Operation.REFUND)
    assert (call.out_trade_no, call.out_refund_no, call.outcome) == (payment.out_trade_no, refund.refund_no, "ok")


def test_a_bill_is_recorded_under_its_day(gateway_site):
    day = timezone.localdate() - dt.timedelta(days=1)

    gateway_get("sandbox").fetch_statement(day)

    call = GatewayCall.objects.get()
    assert (call.operation, call.bill_day, call.result) == ("fetch_statement", day, "0 bill entries")


def test_a_transfer_is_recorded_under_our_payout_number(gateway_site):
    gateway_get("sandbox").transfer(
        TransferRequest(
            out_biz_no="PO20260101000001", amount_fen=10000, payee_account="a@b.c", payee_name="W", remark=""
        )
    )

    call = GatewayCall.objects.get()
    assert (call.operation, call.payout_no, call.outcome) == ("transfer", "PO20260101000001", "ok")


def test_no_record_holds_a_key_a_signature_or_a_signed_url(gateway_site, payment):
    start = gateway_get("sandbox").start_payment(request_for(payment, gateway_site.url))

    call = GatewayCall.objects.get()
    recorded = " ".join(str(value) for value in GatewayCall.objects.values().get().values())
    assert call.result == "start: redirect"
    assert settings.SANDBOX_MERCHANT_KEY not in recorded
    assert start.url not in recorded
    assert "sign" not in recorded


@pytest.mark.postgres
def test_the_record_outlives_a_business_transaction_that_rolls_back(gateway_site):
    with pytest.raises(TradeNotFound), transaction.atomic():
        gateway_get("sandbox").query_payment("KP20260101000000000405P01")

    assert GatewayCall.objects.filter(out_trade_no="KP20260101000000000405P01").exists()


def test_the_orders_money_trail_shows_calls_notifications_refunds_and_entries_in_time_order(
    gateway_site, payment, post_notify, client
):
    paid(gateway_site, payment)
    refund_issue(order=payment.order, staff=UserFactory(is_staff=True), amount_fen=290, reason="partial")
    payment.refresh_from_db()
    # A resend of the same trade (another trade number would be an anomaly), acknowledged as a duplicate.
    post_notify(sandbox_notification_body(payment, trade_no=payment.gateway_trade_no))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:payments_order_change", args=[payment.order_id])).content.decode()

    trail = page[page.index("Money trail") :]
    order_of = [
        trail.index("sandbox/page started"),
        trail.index("sandbox start a payment: answered"),
        trail.index("sandbox payment SUCCESS: processed"),
        trail.index(f"sale:{payment.out_trade_no}"),
        trail.index("sandbox send a refund: answered"),
        trail.index(f"refund:{payment.order.order_no}R01"),
        trail.index("sandbox payment SUCCESS: already processed"),
    ]
    assert order_of == sorted(order_of)
