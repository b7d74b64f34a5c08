"""Alerts to staff: once per incident, not once per check; a new one after it was resolved; resolved
when the condition clears; silenceable per kind."""

import datetime as dt
import hashlib
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from payments.gateways.base import GatewayUnavailable, StatementEntry, StatementEntryKind
from payments.models import Alert, AlertSilence, GatewayNotification, InboxItem, OutboxMessage, Payout, Refund
from payments.services.alerts import alert_raise, alert_resolve, alerts_check
from payments.services.notifications import notification_process
from payments.services.outbox import outbox_send_due
from payments.services.reconciliation import reconciliation_run
from tests.factories import RefundFactory, UserFactory
from tests.payments.fakes import ScriptedBillGateway

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - dt.timedelta(days=1)
NOON = timezone.make_aware(dt.datetime.combine(YESTERDAY, dt.time(12, 0)))
OPS = "ops@example.com"


@pytest.fixture(autouse=True)
def _alert_settings(settings):
    settings.ADMINS = [("Ops", OPS)]
    settings.ALERTS_SILENCED = []
    settings.PAYMENT_GATEWAYS = {
        **settings.PAYMENT_GATEWAYS,
        "billpay": "tests.payments.fakes.ScriptedBillGateway",
        "brokenpay": "tests.payments.fakes.BrokenBillGateway",
    }
    settings.PAYMENTS_CHANNELS = [*settings.PAYMENTS_CHANNELS, "billpay", "brokenpay"]
    ScriptedBillGateway.entries = []
    yield
    ScriptedBillGateway.entries = []


@pytest.fixture
def finance(db):
    """A staff member of the Finance group."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Finance")[0])
    return user


def mails_to(address):
    outbox_send_due()
    return [message.subject for message in mail.outbox if message.to == [address]]


def unknown_trade_on_the_bill():
    ScriptedBillGateway.entries = [
        StatementEntry(
            kind=StatementEntryKind.PAYMENT,
            out_trade_no="KP20260101000000999999P01",
            gateway_trade_no="T999",
            amount_fen=500,
            occurred_at=NOON,
        )
    ]


def reconcile():
    return reconciliation_run(channel="billpay", day=YESTERDAY)


def test_two_runs_finding_the_same_discrepancies_alert_staff_once(finance):
    unknown_trade_on_the_bill()

    reconcile()
    reconcile()

    alert = Alert.objects.get()
    assert (alert.kind, alert.status, alert.occurrences) == ("reconciliation_discrepancies", "open", 2)
    assert alert.notified
    assert "On the bill, unknown or unpaid here: 1" in alert.body
    assert len(mails_to(OPS)) == 1
    assert len(mails_to(finance.email)) == 1
    assert InboxItem.objects.filter(user=finance, kind="alert").count() == 1


def test_the_same_discrepancies_after_staff_resolved_them_are_a_new_incident(finance):
    unknown_trade_on_the_bill()
    reconcile()
    alert_resolve(incident_key=f"reconciliation:billpay:{YESTERDAY}", staff=finance)

    reconcile()

    first, second = Alert.objects.order_by("pk")
    assert (first.status, first.resolved_by) == ("resolved", finance)
    assert (second.status, second.occurrences) == ("open", 1)
    assert len(mails_to(OPS)) == 2
    assert InboxItem.objects.filter(user=finance, kind="alert").count() == 2


def test_a_balanced_run_of_the_same_bill_resolves_its_incident(finance):
    unknown_trade_on_the_bill()
    reconcile()
    ScriptedBillGateway.entries = []

    reconcile()

    alert = Alert.objects.get()
    assert alert.status == "resolved"
    assert alert.resolved_by is None
    assert alert.resolved_at is not None


def test_a_reconciliation_that_cannot_run_alerts_staff(finance, monkeypatch):
    def unreachable(self, day):
        raise GatewayUnavailable("timed out", code="NETWORK")

    monkeypatch.setattr(ScriptedBillGateway, "fetch_statement", unreachable)

    with pytest.raises(GatewayUnavailable):
        reconcile()

    alert = Alert.objects.get()
    assert (alert.kind, alert.incident_key) == ("reconciliation_failed", f"reconciliation-failed:billpay:{YESTERDAY}")
    assert "NETWORK" in alert.body


def failing_notification():
    # Each a message of its own (identical ones are counted on one row).
    body = f"not a number {uuid.uuid4()}".encode()
    return GatewayNotification.objects.create(
        channel="brokenpay", kind="payment", body=body, body_sha256=hashlib.sha256(body).hexdigest()
    )


def test_notifications_failing_processing_alert_staff_once_per_channel(finance):
    for _ in range(2):
        result = notification_process(notification=failing_notification())
        assert result.notification.outcome == GatewayNotification.Outcome.FAILED

    alert = Alert.objects.get()
    assert (alert.kind, alert.occurrences) == ("notification_failed", 2)
    assert alert.incident_key == "notification_failed:brokenpay"
    assert len(mails_to(OPS)) == 1


def test_the_notification_incident_resolves_after_a_quiet_period(finance, settings):
    settings.ALERT_NOTIFICATION_FAILED_QUIET_MINUTES = 60
    notification_process(notification=failing_notification())

    assert alerts_check() == ["notification_failed:brokenpay"]
    alerts_check(now=timezone.now() + dt.timedelta(minutes=61))

    assert Alert.objects.get(kind="notification_failed").status == "resolved"


@pytest.fixture
def sending_payout(creator, finance):
    """A payout approved and not confirmed by the gateway since two hours ago."""
    payout = Payout.objects.create(
        payout_no="PO1",
        creator=creator,
        amount_fen=10000,
        status=Payout.Status.SENDING,
        method=Payout.Method.GATEWAY_TRANSFER,
        channel="sandbox",
        payee_account="a@example.com",
        decided_by=finance,
        decided_at=timezone.now(),
    )
    Payout.objects.filter(pk=payout.pk).update(updated_at=timezone.now() - dt.timedelta(hours=2))
    return payout


def test_a_stuck_payout_alerts_once_and_resolves_when_it_is_paid(sending_payout, finance, settings):
    settings.ALERT_PAYOUT_STUCK_MINUTES = 60

    alerts_check()
    alerts_check()
    Payout.objects.filter(pk=sending_payout.pk).update(status=Payout.Status.FAILED, failure_reason="x")
    alerts_check()

    alert = Alert.objects.get()
    assert (alert.kind, alert.occurrences, alert.status) == ("payout_stuck", 2, "resolved")
    assert "PO1" in alert.body
    assert len(mails_to(OPS)) == 1


def test_a_payout_sending_for_less_than_the_threshold_is_not_stuck(sending_payout, settings):
    settings.ALERT_PAYOUT_STUCK_MINUTES = 180

    assert alerts_check() == []
    assert not Alert.objects.exists()


def test_a_refund_processing_past_its_threshold_alerts(finance, settings):
    settings.ALERT_REFUND_STUCK_MINUTES = 60
    refund = RefundFactory(status=Refund.Status.PROCESSING)
    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=61))

    assert alerts_check() == ["refund_stuck"]
    assert refund.refund_no in Alert.objects.get(kind="refund_stuck").body


def old_unsent_email(minutes):
    message = OutboxMessage.objects.create(
        topic="inbox", dedupe_key="old", payload={}, next_attempt_at=timezone.now() + dt.timedelta(days=1)
    )
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes))
    return message


def test_an_old_outbox_backlog_alerts_and_resolves_once_sent(finance, settings):
    settings.ALERT_OUTBOX_BACKLOG_MINUTES = 30
    message = old_unsent_email(31)

    assert alerts_check() == ["outbox_backlog"]
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now())
    alerts_check()

    assert Alert.objects.get(kind="outbox_backlog").status == "resolved"
    assert InboxItem.objects.filter(user=finance, kind="alert").count() == 1


def test_a_kind_silenced_in_settings_is_recorded_and_nobody_is_told(finance, settings):
    settings.ALERTS_SILENCED = ["outbox_backlog"]
    old_unsent_email(120)

    alerts_check()

    alert = Alert.objects.get()
    assert not alert.notified
    assert not InboxItem.objects.exists()
    assert mails_to(OPS) == []


def test_a_kind_silenced_by_staff_is_silent_until_the_silence_ends(finance):
    AlertSilence.objects.create(kind="outbox_backlog", until=timezone.now() + dt.timedelta(hours=1), reason="SMTP")
    old_unsent_email(120)
    alerts_check()
    alert_resolve(incident_key="outbox_backlog")
    AlertSilence.objects.update(until=timezone.now() - dt.timedelta(seconds=1))

    alerts_check()

    silenced, told = Alert.objects.order_by("pk")
    assert (silenced.notified, told.notified) == (False, True)
    assert len(mails_to(OPS)) == 1


def test_without_admins_the_finance_group_still_hears(finance, settings):
    settings.ADMINS = []

    alert_raise(kind="circuit_open", incident_key="circuit_open:alipay.query", subject="Alipay query circuit open")

    assert mails_to(finance.email) == ["[KnowPay alert] Alipay query circuit open"]


def test_an_alert_with_nobody_to_tell_is_still_recorded(settings, caplog):
    settings.ADMINS = []

    alert = alert_raise(kind="circuit_open", incident_key="circuit_open:alipay.query", subject="open")

    assert Alert.objects.get() == alert
    assert "nobody to tell" in caplog.text


def test_staff_outside_the_alert_groups_are_not_told(db):
    bystander = UserFactory(is_staff=True)

    alert_raise(kind="circuit_open", incident_key="circuit_open:alipay.query", subject="open")

    assert not InboxItem.objects.filter(user=bystander).exists()


def test_admins_given_as_plain_addresses_are_told(settings):
    settings.ADMINS = ["Ops <ops@example.com>"]

    alert_raise(kind="circuit_open", incident_key="circuit_open:alipay.query", subject="open")

    assert len(mails_to(OPS)) == 1
