"""The data migrations that encrypt existing payment data and merge identical notifications,
run from the state before them on rows written as they were then."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTS_BEFORE = [("accounts", "0001_initial")]
ACCOUNTS_AFTER = [("accounts", "0002_creator_payout_encrypted_and_history")]
PAYMENTS_BEFORE = [("payments", "0013_gateway_call_circuit_open_and_outbox_backlog_index")]
PAYMENTS_AFTER = [("payments", "0014_security_risk_idempotency")]


@pytest.fixture
def migrate():
    """Migrate to a target; afterwards back to the latest state, whatever the test did."""

    def to(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield to
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _raw(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_existing_payout_identities_are_encrypted_and_read_back(migrate):
    old = migrate(ACCOUNTS_BEFORE)
    user = old.get_model("accounts", "User").objects.create(username="wang", email="wang@example.com")
    old.get_model("accounts", "CreatorProfile").objects.create(
        user=user, display_name="Wang", payout_alipay_account="13800138000", payout_alipay_name="王芳"
    )
    old.get_model("accounts", "CreatorProfile").objects.create(
        user=old.get_model("accounts", "User").objects.create(username="li", email="li@example.com"),
        display_name="Li",
    )

    migrate(ACCOUNTS_AFTER)

    rows = _raw("SELECT payout_alipay_account, payout_alipay_name FROM accounts_creatorprofile ORDER BY id")
    assert rows[0][0].startswith("gAAAAA")
    assert "13800138000" not in rows[0][0]
    assert "王芳" not in rows[0][1]
    assert rows[1] == ("", "")  # nothing to encrypt stays empty
    from accounts.models import CreatorProfile

    profile = CreatorProfile.objects.get(display_name="Wang")
    assert (profile.payout_alipay_account, profile.payout_alipay_name) == ("13800138000", "王芳")


def test_going_back_decrypts_them(migrate):
    migrate(ACCOUNTS_BEFORE)
    new = migrate(ACCOUNTS_AFTER)
    user = new.get_model("accounts", "User").objects.create(username="wang", email="wang@example.com")
    from accounts.models import CreatorProfile

    CreatorProfile.objects.create(
        user_id=user.pk, display_name="Wang", payout_alipay_account="13800138000", payout_alipay_name="王芳"
    )

    migrate(ACCOUNTS_BEFORE)

    assert _raw("SELECT payout_alipay_account, payout_alipay_name FROM accounts_creatorprofile") == [
        ("13800138000", "王芳")
    ]


def test_payer_references_and_payees_are_encrypted_and_identical_notifications_merged(migrate):
    old = migrate(PAYMENTS_BEFORE)
    User = old.get_model("accounts", "User")
    learner = User.objects.create(username="learner", email="l@example.com")
    creator = User.objects.create(username="creator", email="c@example.com")
    course = old.get_model("courses", "Course").objects.create(
        creator=creator, title="C", slug="c", price_fen=100, status="published"
    )
    order = old.get_model("payments", "Order").objects.create(
        order_no="KP1", learner=learner, course=course, amount_fen=100, expires_at="2030-01-01T00:00:00Z"
    )
    old.get_model("payments", "Payment").objects.create(
        order=order,
        channel="alipay",
        method="page",
        out_trade_no="KP1P01",
        amount_fen=100,
        payer_ref="2088102177846880",
    )
    old.get_model("payments", "Payout").objects.create(
        payout_no="PO1", creator=creator, amount_fen=10000, payee_account="13800138000", payee_name="王芳"
    )
    Notification = old.get_model("payments", "GatewayNotification")
    body = b"trade_status=TRADE_SUCCESS&out_trade_no=KP1P01"
    digest = hashlib.sha256(body).hexdigest()
    for outcome in ("failed", "processed", "duplicate"):
        Notification.objects.create(channel="alipay", kind="payment", body=body, body_sha256=digest, outcome=outcome)
    Notification.objects.create(channel="alipay", kind="payment", body=b"other", body_sha256="0" * 64)

    new = migrate(PAYMENTS_AFTER)

    assert "2088102177846880" not in _raw("SELECT payer_ref FROM payments_payment")[0][0]
    assert "13800138000" not in _raw("SELECT payee_account FROM payments_payout")[0][0]
    assert new.get_model("payments", "Payment").objects.get().payer_ref == "2088102177846880"
    assert new.get_model("payments", "Payout").objects.get().payee_name == "王芳"
    GatewayNotification = new.get_model("payments", "GatewayNotification")
    kept = GatewayNotification.objects.get(body_sha256=digest)  # one row for the three identical bodies
    assert (kept.outcome, kept.times_received) == ("processed", 3)
    assert GatewayNotification.objects.count() == 2


def test_stored_notification_bodies_are_encrypted(migrate):
    old = migrate([("payments", "0015_order_refund_client_ip")])
    body = b"trade_status=TRADE_SUCCESS&buyer_id=2088102177846880"
    old.get_model("payments", "GatewayNotification").objects.create(
        channel="alipay", kind="payment", body=body, body_sha256=hashlib.sha256(body).hexdigest()
    )

    migrate([("payments", "0016_notification_body_encrypted")])

    assert b"2088102177846880" not in bytes(_raw("SELECT body FROM payments_gatewaynotification")[0][0])
    from payments.models import GatewayNotification

    assert bytes(GatewayNotification.objects.get().body) == body
