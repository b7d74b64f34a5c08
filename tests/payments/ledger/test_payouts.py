"""Payouts: requested up to what is available and reserved at once; approved, paid by bank or rejected by
staff; transferred outside the transaction, failures released."""

import datetime as dt

import pytest

from payments.models import LedgerAccount, LedgerEntry, Payout
from payments.selectors.ledger import ledger_violations
from payments.services.payouts import (
    PayoutError,
    payout_approve,
    payout_mark_paid_by_bank,
    payout_reject,
    payout_request,
    payouts_send_stuck,
)
from payments.services.settlement import earnings_settle_due
from tests.factories import UserFactory
from tests.payments.ledger.fakes import TransferGateway
from tests.payments.ledger.helpers import balance, sell, shared_balance

pytestmark = pytest.mark.django_db

Kind = LedgerAccount.Kind
AVAILABLE, IN_TRANSIT = Kind.CREATOR_AVAILABLE, Kind.CREATOR_IN_TRANSIT


@pytest.fixture
def sales(course_at, creator):
    """Two settled sales of 9,000 fen each for the creator (the first is older): 180 yuan available."""
    course = course_at(10000)
    older, newer = sell(course, days_ago=9), sell(course, days_ago=8)
    earnings_settle_due()
    return [LedgerEntry.objects.get(kind=LedgerEntry.Kind.SALE, payment=p) for p in (older, newer)]


def request(creator, amount_fen):
    return payout_request(creator=creator, requested_by=creator, amount_fen=amount_fen)


def approve(payout, staff, capture):
    with capture(execute=True):
        payout_approve(payout=payout, staff=staff)
    payout.refresh_from_db()
    return payout


def assert_nothing_reserved(creator, available_fen=18000):
    assert (balance(creator, AVAILABLE), balance(creator, IN_TRANSIT)) == (available_fen, 0)
    assert not Payout.objects.filter(status__in=Payout.IN_TRANSIT).exists()


@pytest.mark.parametrize("amount", [0, -500, "15000", 15000.0, True])
def test_a_payout_of_a_bad_amount_is_refused(sales, creator, amount):
    with pytest.raises(PayoutError, match="positive number of fen"):
        request(creator, amount)

    assert_nothing_reserved(creator)


def test_a_payout_below_the_minimum_is_refused(sales, creator):
    with pytest.raises(PayoutError, match=r"minimum payout is ¥100\.00"):
        request(creator, 9999)

    assert_nothing_reserved(creator)


def test_a_payout_above_what_is_available_is_refused(sales, creator):
    with pytest.raises(PayoutError, match=r"at most ¥180\.00"):
        request(creator, 18001)

    assert_nothing_reserved(creator)
    assert not Payout.objects.exists()


def test_held_earnings_cannot_be_withdrawn(course_at, creator):
    sell(course_at(20000), days_ago=1)

    with pytest.raises(PayoutError, match=r"at most ¥0\.00"):
        request(creator, 10000)

    assert_nothing_reserved(creator, available_fen=0)


def test_a_payout_of_another_creators_earnings_is_refused(sales, creator, other_creator):
    with pytest.raises(PayoutError, match="your own earnings"):
        payout_request(creator=creator, requested_by=other_creator, amount_fen=10000)

    assert_nothing_reserved(creator)


def test_a_user_who_is_not_a_creator_cannot_request_a_payout():
    learner = UserFactory()

    with pytest.raises(PayoutError, match="Only creators"):
        request(learner, 10000)

    assert not Payout.objects.exists()


@pytest.mark.parametrize("first", ["reject", "bank"])
@pytest.mark.parametrize("then", ["approve", "reject", "bank"])
def test_a_payout_is_decided_once(sales, creator, staff, first, then, transfer_gateway):
    decide = {
        "approve": lambda p: payout_approve(payout=p, staff=staff),
        "reject": lambda p: payout_reject(payout=p, staff=staff, note="no"),
        "bank": lambda p: payout_mark_paid_by_bank(payout=p, staff=staff, reference="B1"),
    }
    payout = request(creator, 10000)
    decide[first](payout)
    entries = LedgerEntry.objects.count()

    with pytest.raises(PayoutError, match="already"):
        decide[then](payout)

    assert LedgerEntry.objects.count() == entries
    assert ledger_violations() == []


def test_approval_without_a_payout_account_is_refused(sales, creator, staff, transfer_gateway):
    creator.creator_profile.payout_alipay_account = ""
    creator.creator_profile.save()
    payout = request(creator, 10000)

    with pytest.raises(PayoutError, match="no Alipay account"):
        payout_approve(payout=payout, staff=staff)

    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED


def test_approval_when_the_transfer_channel_is_not_enabled_is_refused(sales, creator, staff, settings):
    settings.PAYOUT_TRANSFER_CHANNEL = "alipay-not-enabled"
    payout = request(creator, 10000)

    with pytest.raises(PayoutError, match="Transfers are not available"):
        payout_approve(payout=payout, staff=staff)

    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED


def test_marking_paid_by_bank_needs_the_transfer_reference(sales, creator, staff):
    payout = request(creator, 10000)

    with pytest.raises(PayoutError, match="reference"):
        payout_mark_paid_by_bank(payout=payout, staff=staff, reference="  ")

    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED


def test_a_request_reserves_the_amount_at_once(sales, creator):
    payout = request(creator, 15000)

    assert payout.status == Payout.Status.REQUESTED
    assert (balance(creator, AVAILABLE), balance(creator, IN_TRANSIT)) == (3000, 15000)
    entry = LedgerEntry.objects.get(payout=payout)
    assert (entry.kind, entry.reference) == (LedgerEntry.Kind.PAYOUT_RESERVE, f"payout:{payout.payout_no}")
    assert ledger_violations() == []


def test_a_payout_pays_settled_sales_oldest_first(sales, creator, settings):
    settings.PAYOUT_MIN_FEN = 100
    older, newer = sales

    first = request(creator, 12000)
    second = request(creator, 6000)

    assert list(first.allocations.values_list("sale", "amount_fen")) == [(older.pk, 9000), (newer.pk, 3000)]
    assert list(second.allocations.values_list("sale", "amount_fen")) == [(newer.pk, 6000)]


def test_a_rejected_payout_releases_its_amount_and_its_sales(sales, creator, staff):
    older, newer = sales
    payout = request(creator, 12000)

    payout_reject(payout=payout, staff=staff, note="Identity check pending")

    payout.refresh_from_db()
    assert (payout.status, payout.decided_by, payout.decision_note) == (
        Payout.Status.REJECTED,
        staff,
        "Identity check pending",
    )
    assert payout.decided_at is not None
    assert (balance(creator, AVAILABLE), balance(creator, IN_TRANSIT)) == (18000, 0)
    release = LedgerEntry.objects.get(payout=payout, kind=LedgerEntry.Kind.PAYOUT_RELEASE)
    assert release.reverses == LedgerEntry.objects.get(payout=payout, kind=LedgerEntry.Kind.PAYOUT_RESERVE)
    again = request(creator, 18000)
    assert list(again.allocations.values_list("sale", "amount_fen")) == [(older.pk, 9000), (newer.pk, 9000)]
    assert ledger_violations() == []


def test_approval_transfers_to_the_creators_alipay_account(
    sales, creator, staff, transfer_gateway, django_capture_on_commit_callbacks
):
    payout = approve(request(creator, 15000), staff, django_capture_on_commit_callbacks)

    assert (payout.status, payout.method, payout.channel) == (Payout.Status.PAID, "gateway_transfer", "testpay")
    assert (payout.decided_by, payout.transfer_no) == (staff, f"T{payout.payout_no}")
    [sent] = TransferGateway.requests
    profile = creator.creator_profile
    assert (sent.out_biz_no, sent.amount_fen, sent.payee_account, sent.payee_name) == (
        payout.payout_no,
        15000,
        profile.payout_alipay_account,
        profile.payout_alipay_name,
    )
    assert (balance(creator, AVAILABLE), balance(creator, IN_TRANSIT)) == (3000, 0)
    assert shared_balance(Kind.GATEWAY_CLEARING, "testpay") == -15000
    assert ledger_violations() == []


def test_a_transfer_the_gateway_refuses_fails_the_payout_and_releases_it(
    sales, creator, staff, transfer_gateway, django_capture_on_commit_callbacks
):
    TransferGateway.answers = ["rejected"]

    payout = approve(request(creator, 15000), staff, django_capture_on_commit_callbacks)

    assert payout.status == Payout.Status.FAILED
    assert payout.failure_reason.startswith("PAYEE_NOT_EXIST")
    assert (balance(creator, AVAILABLE), balance(creator, IN_TRANSIT)) == (18000, 0)
    assert ledger_violations() == []


def test_a_transfer_without_an_answer_stays_sending_and_is_sent_again(
    sales, creator, staff, transfer_gateway, django_capture_on_commit_callbacks
):
    TransferGateway.answers = ["down"]
    payout = approve(request(creator, 15000), staff, django_capture_on_commit_callbacks)
    assert payout.status == Payout.Status.SENDING
    assert balance(creator, IN_TRANSIT) == 15000

    assert payouts_send_stuck(older_than=dt.timedelta(0)) == 1

    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert [r.out_biz_no for r in TransferGateway.requests] == [payout.payout_no] * 2
    assert LedgerEntry.objects.filter(payout=payout, kind=LedgerEntry.Kind.PAYOUT_PAID).count() == 1
    assert ledger_violations() == []


def test_a_payout_whose_channel_stops_transferring_stays_sending_and_reserved(
    sales, creator, staff, transfer_gateway, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as send:
        payout = payout_approve(payout=request(creator, 15000), staff=staff)
    settings.PAYMENTS_CHANNELS = ["sandbox"]

    send[0]()
    assert payouts_send_stuck(older_than=dt.timedelta(0)) == 0

    payout.refresh_from_db()
    assert payout.status == Payout.Status.SENDING
    assert (balance(creator, AVAILABLE), balance(creator, IN_TRANSIT)) == (3000, 15000)
    assert TransferGateway.requests == []


def test_a_transfer_accepted_but_not_done_stays_sending(
    sales, creator, staff, transfer_gateway, django_capture_on_commit_callbacks
):
    TransferGateway.answers = ["pending"]

    payout = approve(request(creator, 15000), staff, django_capture_on_commit_callbacks)

    assert payout.status == Payout.Status.SENDING
    assert not LedgerEntry.objects.filter(payout=payout, kind=LedgerEntry.Kind.PAYOUT_PAID).exists()


def test_a_payout_paid_by_bank_records_the_reference_and_leaves_the_bank(sales, creator, staff):
    payout = request(creator, 15000)

    payout_mark_paid_by_bank(payout=payout, staff=staff, reference="ICBC-20261122-0001")

    payout.refresh_from_db()
    assert (payout.status, payout.method, payout.bank_reference, payout.decided_by) == (
        Payout.Status.PAID,
        "bank_transfer",
        "ICBC-20261122-0001",
        staff,
    )
    assert payout.paid_at is not None
    assert shared_balance(Kind.BANK) == -15000
    assert balance(creator, IN_TRANSIT) == 0
    assert ledger_violations() == []
