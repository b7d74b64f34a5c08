"""Creators' payout identity and payers' references are encrypted in the database with keys from the
environment, rotated by a command, shown masked, and never logged."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.models import CreatorProfile
from knowpay.crypto import DecryptionError
from payments.models import GatewayNotification, Payment, Payout
from payments.services.payouts import payout_approve, payout_request, payout_send
from payments.services.settlement import earnings_settle_due
from tests.factories import UserFactory
from tests.factories.accounts import PASSWORD
from tests.payments.conftest import sandbox_notification_body
from tests.payments.ledger.fakes import TransferGateway
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db

ACCOUNT, NAME, PAYER = "13800138000", "张三丰", "sandbox-buyer-2088102177846880"


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (test constants)
        return cursor.fetchone()[0]


@pytest.fixture
def profile(creator):
    CreatorProfile.objects.filter(user=creator).update(payout_alipay_account=ACCOUNT, payout_alipay_name=NAME)
    return CreatorProfile.objects.get(user=creator)


@pytest.fixture
def paid_out(profile, creator, course_at, transfer_gateway):
    """A payout of `creator` approved and transferred to their (encrypted) Alipay account."""
    sell(course_at(20000), days_ago=8)
    earnings_settle_due()
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=15000)
    payout_approve(payout=payout, staff=UserFactory(is_staff=True))
    payout_send(payout_id=payout.pk)
    return Payout.objects.get(pk=payout.pk)


def test_the_payout_identity_is_ciphertext_in_the_database(profile):
    account = _raw("accounts_creatorprofile", "payout_alipay_account", profile.pk)
    name = _raw("accounts_creatorprofile", "payout_alipay_name", profile.pk)

    assert ACCOUNT not in account
    assert NAME not in name
    assert account.startswith("gAAAAA")  # a Fernet token
    assert (profile.payout_alipay_account, profile.payout_alipay_name) == (ACCOUNT, NAME)


def test_a_payouts_payee_is_ciphertext_in_the_database(paid_out):
    assert ACCOUNT not in _raw("payments_payout", "payee_account", paid_out.pk)
    assert NAME not in _raw("payments_payout", "payee_name", paid_out.pk)
    assert (paid_out.payee_account, paid_out.payee_name) == (ACCOUNT, NAME)


def test_the_payer_reference_from_a_notification_is_ciphertext_in_the_database(payment, post_notify):
    post_notify(sandbox_notification_body(payment, buyer_id=PAYER))

    assert Payment.objects.get(pk=payment.pk).payer_ref == PAYER
    assert PAYER not in _raw("payments_payment", "payer_ref", payment.pk)


def test_history_rows_are_encrypted_too(client, profile, creator):
    client.force_login(creator)
    client.post(
        reverse("accounts:creator_edit"),
        {
            "display_name": "x",
            "bio": "",
            "payout_alipay_account": "13900139000",
            "payout_alipay_name": NAME,
            "password": PASSWORD,
        },
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT payout_alipay_account FROM accounts_historicalcreatorprofile")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored
    assert all("13900139000" not in value and ACCOUNT not in value for value in stored)


def test_values_are_unreadable_without_their_key(profile, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(DecryptionError):
        CreatorProfile.objects.get(pk=profile.pk)


def test_rotation_re_encrypts_every_row_so_the_old_key_can_go(profile, paid_out, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = _raw("accounts_creatorprofile", "payout_alipay_account", profile.pk)
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    call_command("encryption_rotate", stdout=open("/dev/null", "w"))  # noqa: SIM115 (quiet)

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert _raw("accounts_creatorprofile", "payout_alipay_account", profile.pk) != before
    assert CreatorProfile.objects.get(pk=profile.pk).payout_alipay_account == ACCOUNT
    assert Payout.objects.get(pk=paid_out.pk).payee_name == NAME
    assert all(row.payout_alipay_account for row in profile.history.all())  # history rows rotated too


def test_admin_and_pages_show_the_payout_identity_masked(client, paid_out, creator, payment, post_notify):
    post_notify(sandbox_notification_body(payment, buyer_id=PAYER))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    pages = [
        reverse("admin:accounts_creatorprofile_change", args=[creator.creator_profile.pk]),
        reverse("admin:accounts_creatorprofile_changelist"),
        reverse("admin:accounts_user_change", args=[creator.pk]),
        reverse("admin:payments_payout_change", args=[paid_out.pk]),
        reverse("admin:payments_payment_change", args=[payment.pk]),
    ]
    for url in pages:
        text = client.get(url).text
        assert ACCOUNT not in text, url
        assert NAME not in text, url
        assert PAYER not in text, url
    assert "13*******00" in client.get(pages[0]).text

    client.force_login(creator)
    for url in (reverse("accounts:profile"), reverse("payments:earnings_payout", args=[paid_out.payout_no])):
        text = client.get(url).text
        assert ACCOUNT not in text, url
        assert "13*******00" in text, url
    assert ACCOUNT not in client.get(reverse("payments:earnings")).text


def test_payment_data_never_reaches_the_logs(
    client, creator, course_at, transfer_gateway, payment, post_notify, caplog
):
    caplog.set_level(logging.DEBUG)
    client.force_login(creator)
    client.post(
        reverse("accounts:creator_edit"),
        {
            "display_name": "x",
            "bio": "",
            "payout_alipay_account": ACCOUNT,
            "payout_alipay_name": NAME,
            "password": PASSWORD,
        },
    )
    CreatorProfile.objects.filter(user=creator).update(payout_changed_at=None)  # past the payout hold
    post_notify(sandbox_notification_body(payment, buyer_id=PAYER))
    sell(course_at(20000), days_ago=8)
    earnings_settle_due()
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=15000)
    TransferGateway.answers = ["down", "rejected"]
    payout_approve(payout=payout, staff=UserFactory(is_staff=True))
    with pytest.raises(Exception):  # noqa: B017, PT011 (the gateway is down: logged, raised for a retry)
        payout_send(payout_id=payout.pk)
    payout_send(payout_id=payout.pk)

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert caplog.records  # the flow did log
    for secret in (ACCOUNT, NAME, PAYER):
        assert secret not in logged


def test_the_blocklist_keeps_working_through_a_key_rotation(settings, learner, course):
    from payments.services.orders import order_create
    from payments.services.risk import RiskRefused, blocked_subject_add

    blocked_subject_add(kind="user", value=learner.username, reason="fraud", staff=None)
    old_key, new_key = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    with pytest.raises(RiskRefused):
        order_create(learner=learner, course=course)
    call_command("encryption_rotate", stdout=open("/dev/null", "w"))  # noqa: SIM115 (quiet)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]

    with pytest.raises(RiskRefused):
        order_create(learner=learner, course=course)


def test_raw_notifications_are_encrypted_and_shown_with_the_payer_masked(client, payment, post_notify):
    post_notify(sandbox_notification_body(payment, buyer_id=PAYER))
    notification = GatewayNotification.objects.get()

    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM payments_gatewaynotification WHERE id = %s", [notification.pk])
        stored = bytes(cursor.fetchone()[0])
    assert PAYER.encode() not in stored
    assert PAYER.encode() in bytes(notification.body)  # read back as received
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:payments_gatewaynotification_change", args=[notification.pk])).text
    assert PAYER not in page
    assert f"buyer_id={PAYER[:2]}" in page
