"""Notify floods cannot grow storage without bound: an identical body is stored once and counted,
and is still processed again, so a gateway's resend after a failure is applied."""

import pytest

from courses.models import Enrollment
from payments.models import GatewayNotification, Payment
from payments.services import notifications
from tests.concurrency import run_at_once
from tests.payments.conftest import NOTIFY_URL, sandbox_notification_body

pytestmark = pytest.mark.django_db


def test_a_flood_of_one_body_is_stored_once_and_counted(payment, post_notify):
    body = sandbox_notification_body(payment)

    replies = [post_notify(body).content for _ in range(20)]

    assert replies == [b"SUCCESS"] * 20
    stored = GatewayNotification.objects.get()
    assert bytes(stored.body) == body  # nothing lost: the body is there once
    assert stored.times_received == 20
    assert stored.last_received_at >= stored.received_at
    assert stored.outcome == GatewayNotification.Outcome.PROCESSED


def test_different_bodies_are_stored_apart(payment, post_notify):
    post_notify(sandbox_notification_body(payment, notify_id="N1"))
    post_notify(sandbox_notification_body(payment, notify_id="N2"))

    assert GatewayNotification.objects.count() == 2
    assert set(GatewayNotification.objects.values_list("times_received", flat=True)) == {1}


def test_a_resend_of_the_same_body_after_a_failure_is_processed(payment, post_notify, monkeypatch):
    body = sandbox_notification_body(payment)
    real_apply = notifications.payment_event_apply
    calls = []

    def fails_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return real_apply(**kwargs)

    monkeypatch.setattr(notifications, "payment_event_apply", fails_once)

    first = post_notify(body)
    assert first.content != b"SUCCESS"  # not acknowledged: the gateway sends it again
    assert GatewayNotification.objects.get().outcome == GatewayNotification.Outcome.FAILED

    again = post_notify(body)

    assert again.content == b"SUCCESS"
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, stored.times_received) == (GatewayNotification.Outcome.PROCESSED, 2)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert Enrollment.objects.count() == 1


def test_an_oversized_body_keeps_the_size_cap_and_is_counted_when_sent_again(payment, post_notify, settings):
    settings.NOTIFY_MAX_BODY_BYTES = 100
    body = sandbox_notification_body(payment) + b"&padding=" + b"x" * 500

    replies = [post_notify(body).content for _ in range(3)]

    assert b"SUCCESS" not in replies
    stored = GatewayNotification.objects.get()
    assert len(bytes(stored.body)) == 100
    assert stored.body_truncated
    assert (stored.outcome, stored.times_received) == (GatewayNotification.Outcome.REJECTED, 3)


def test_notify_is_rate_limited_per_address_with_retry_after(payment, post_notify, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "notify": "2/m"}
    body = sandbox_notification_body(payment)

    replies = [post_notify(body) for _ in range(3)]

    assert [reply.status_code for reply in replies] == [200, 200, 429]
    assert int(replies[-1]["Retry-After"]) > 0
    assert GatewayNotification.objects.get().times_received == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_identical_bodies_at_once_make_one_row_counting_each(payment):
    from django.test import Client

    body = sandbox_notification_body(payment, trade_status="WAIT_BUYER_PAY")

    replies = run_at_once(
        20, lambda i: Client().post(NOTIFY_URL, data=body, content_type="application/x-www-form-urlencoded")
    )

    assert [reply.status_code for reply in replies] == [200] * 20
    stored = GatewayNotification.objects.get()
    assert stored.times_received == 20
