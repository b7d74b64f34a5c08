"""A verified success for an attempt we already recorded as paid, under another gateway trade number:
never absorbed as a replay. It is recorded as an anomaly of the payment (with the raw notification),
alerted, acknowledged once recorded, and never mistaken for the same trade.
"""

import logging

import pytest
from django.utils import timezone

from payments.gateways.base import PaymentEvent, TradeStatus
from payments.models import Alert, GatewayNotification, LedgerEntry, OutboxMessage, Payment, PaymentAnomaly, Refund
from payments.services.events import ApplyOutcome, payment_event_apply
from tests.factories import PaymentFactory
from tests.payments.alipay.helpers import NOTIFY_URL as ALIPAY_NOTIFY_URL
from tests.payments.alipay.helpers import notification_body
from tests.payments.conftest import sandbox_notification_body

pytestmark = pytest.mark.django_db

FIRST, OTHER = "SBX-first-trade", "SBX-other-trade"


@pytest.fixture
def paid(payment, post_notify):
    post_notify(sandbox_notification_body(payment, trade_no=FIRST))
    payment.refresh_from_db()
    assert payment.gateway_trade_no == FIRST
    return payment


def test_another_trade_for_a_paid_attempt_is_recorded_as_an_anomaly_with_its_notification(paid, post_notify):
    post_notify(sandbox_notification_body(paid, trade_no=OTHER, notify_id="N2"))

    anomaly = PaymentAnomaly.objects.get()
    notification = GatewayNotification.objects.order_by("-id").first()
    assert (anomaly.payment, anomaly.kind) == (paid, PaymentAnomaly.Kind.SECOND_GATEWAY_TRADE)
    assert (anomaly.gateway_trade_no, anomaly.recorded_trade_no, anomaly.amount_fen) == (OTHER, FIRST, 1290)
    assert anomaly.notification == notification
    assert (notification.outcome, notification.payment) == (GatewayNotification.Outcome.ANOMALY, paid)


def test_the_other_trade_never_replaces_the_recorded_one_nor_moves_money(paid, post_notify):
    entries = LedgerEntry.objects.count()

    post_notify(sandbox_notification_body(paid, trade_no=OTHER, notify_id="N2"))

    paid.refresh_from_db()
    assert paid.gateway_trade_no == FIRST
    assert not paid.is_duplicate
    assert LedgerEntry.objects.count() == entries
    assert not Refund.objects.exists()


def test_the_anomaly_is_acknowledged_once_recorded_so_the_gateway_stops_resending(paid, post_notify):
    body = sandbox_notification_body(paid, trade_no=OTHER, notify_id="N2")

    replies = [post_notify(body).content for _ in range(3)]

    assert replies == [b"SUCCESS"] * 3
    assert PaymentAnomaly.objects.count() == 1
    rows = list(GatewayNotification.objects.order_by("id").values_list("outcome", "times_received"))
    assert rows == [("processed", 1), ("anomaly", 3)]


def test_the_same_trade_again_is_still_a_harmless_replay(paid, post_notify):
    response = post_notify(sandbox_notification_body(paid, trade_no=FIRST, notify_id="N2"))

    assert response.content == b"SUCCESS"
    assert not PaymentAnomaly.objects.exists()
    assert GatewayNotification.objects.order_by("-id").first().outcome == GatewayNotification.Outcome.DUPLICATE


def test_the_anomaly_is_logged_as_an_error_with_its_numbers(paid, post_notify, caplog):
    with caplog.at_level(logging.ERROR, logger="payments.services.events"):
        post_notify(sandbox_notification_body(paid, trade_no=OTHER, notify_id="N2"))

    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert (record.out_trade_no, record.gateway_trade_no, record.recorded_trade_no) == (paid.out_trade_no, OTHER, FIRST)
    assert record.anomaly == PaymentAnomaly.objects.get().pk


def test_the_anomaly_raises_one_alert_told_to_admins_through_the_outbox(paid, post_notify, settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    body = sandbox_notification_body(paid, trade_no=OTHER, notify_id="N2")

    post_notify(body)
    post_notify(body)

    alert = Alert.objects.get(kind=Alert.Kind.PAYMENT_ANOMALY)
    assert alert.incident_key == f"payment_anomaly:{PaymentAnomaly.objects.get().pk}"
    assert alert.occurrences == 1
    assert OTHER in alert.subject
    assert FIRST in alert.body
    told = OutboxMessage.objects.filter(topic="alert")
    assert [m.payload["to"] for m in told] == ["ops@example.com"]


def test_another_reported_trade_is_another_incident(paid, post_notify):
    post_notify(sandbox_notification_body(paid, trade_no=OTHER, notify_id="N2"))

    post_notify(sandbox_notification_body(paid, trade_no="SBX-third-trade", notify_id="N3"))

    assert PaymentAnomaly.objects.count() == 2
    assert Alert.objects.filter(kind=Alert.Kind.PAYMENT_ANOMALY, status=Alert.Status.OPEN).count() == 2


def test_a_query_reporting_another_trade_is_recorded_without_a_notification(paid):
    event = PaymentEvent(
        out_trade_no=paid.out_trade_no,
        status=TradeStatus.PAID,
        amount_fen=paid.amount_fen,
        gateway_trade_no=OTHER,
        paid_at=timezone.now(),
    )

    result = payment_event_apply(channel="sandbox", event=event)

    assert result.outcome == ApplyOutcome.ANOMALY
    anomaly = PaymentAnomaly.objects.get()
    assert (anomaly.gateway_trade_no, anomaly.notification) == (OTHER, None)


def test_a_real_alipay_notification_with_another_trade_no_is_an_anomaly(course, learner, client):
    alipay_payment = PaymentFactory(channel="alipay", method="page", order__course=course, order__learner=learner)

    def notify(**fields):
        body = notification_body(alipay_payment, **fields)
        return client.post(ALIPAY_NOTIFY_URL, data=body, content_type="application/x-www-form-urlencoded")

    notify(trade_no="2026112222001400000000000001")

    response = notify(trade_no="2026112222001400000000000002", notify_id="2026112200222120000000000000000002")

    assert response.content == b"success"
    assert Payment.objects.get(pk=alipay_payment.pk).gateway_trade_no == "2026112222001400000000000001"
    assert PaymentAnomaly.objects.get().gateway_trade_no == "2026112222001400000000000002"


# --- Staff see it ------------------------------------------------------------------------------


def test_the_payment_list_counts_anomalies_and_filters_on_them(paid, post_notify, admin_client):
    post_notify(sandbox_notification_body(paid, trade_no=OTHER, notify_id="N2"))

    listed = admin_client.get("/admin/payments/payment/?has_anomalies=yes")

    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [paid]
    assert listed.context["cl"].result_list[0].anomaly_count == 1
    assert list(admin_client.get("/admin/payments/payment/?has_anomalies=no").context["cl"].result_list) == []


def test_the_anomaly_is_shown_to_staff_with_its_raw_notification(paid, post_notify, admin_client):
    post_notify(sandbox_notification_body(paid, trade_no=OTHER, notify_id="N2"))
    anomaly = PaymentAnomaly.objects.get()

    page = admin_client.get(f"/admin/payments/paymentanomaly/{anomaly.pk}/change/")
    payment_page = admin_client.get(f"/admin/payments/payment/{paid.pk}/change/")

    assert page.status_code == 200
    assert OTHER in page.content.decode()
    assert f"/admin/payments/gatewaynotification/{anomaly.notification_id}/" in page.content.decode()
    assert OTHER in payment_page.content.decode()
