"""A creator may cancel a payout they requested before staff decide; it is released like a rejection."""

import pytest

from payments.models import LedgerAccount, LedgerEntry, Payout
from payments.selectors.ledger import ledger_violations
from payments.services.payouts import PayoutError, payout_cancel, payout_reject, payout_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory
from tests.payments.ledger.helpers import balance, sell

pytestmark = pytest.mark.django_db

Kind = LedgerAccount.Kind


@pytest.fixture
def payout(creator, settings):
    settings.PAYOUT_MIN_FEN = 10000
    course = CourseFactory(creator=creator, price_fen=10000)
    sell(course, days_ago=9)
    sell(course, days_ago=8)
    earnings_settle_due()
    return payout_request(creator=creator, requested_by=creator, amount_fen=15000)


def test_a_cancelled_payout_makes_its_amount_available_again(creator, payout):
    payout_cancel(payout=payout, creator=creator)

    payout.refresh_from_db()
    assert payout.status == Payout.Status.CANCELLED
    assert (balance(creator, Kind.CREATOR_AVAILABLE), balance(creator, Kind.CREATOR_IN_TRANSIT)) == (18000, 0)
    release = LedgerEntry.objects.get(kind=LedgerEntry.Kind.PAYOUT_RELEASE, payout=payout)
    assert release.reverses == LedgerEntry.objects.get(kind=LedgerEntry.Kind.PAYOUT_RESERVE, payout=payout)
    assert ledger_violations() == []


def test_its_sales_can_be_paid_by_the_next_payout(creator, payout):
    payout_cancel(payout=payout, creator=creator)

    again = payout_request(creator=creator, requested_by=creator, amount_fen=18000)

    assert sum(a.amount_fen for a in again.allocations.all()) == 18000
    assert ledger_violations() == []


def test_a_payout_staff_decided_cannot_be_cancelled(creator, payout, staff):
    payout_reject(payout=payout, staff=staff, note="no")

    with pytest.raises(PayoutError, match="already rejected"):
        payout_cancel(payout=payout, creator=creator)

    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYOUT_RELEASE).count() == 1


def test_nobody_cancels_another_creators_payout(payout, other_creator):
    with pytest.raises(PayoutError, match="your own"):
        payout_cancel(payout=payout, creator=other_creator)

    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED


def test_the_creator_cancels_from_the_payout_page(client, creator, payout):
    client.force_login(creator)
    page = client.get(f"/earnings/payouts/{payout.payout_no}/").content.decode()
    assert f"/earnings/payouts/{payout.payout_no}/cancel/" in page

    response = client.post(f"/earnings/payouts/{payout.payout_no}/cancel/")

    assert response.status_code == 302
    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.CANCELLED


def test_cancelling_is_a_post(client, creator, payout):
    client.force_login(creator)

    assert client.get(f"/earnings/payouts/{payout.payout_no}/cancel/").status_code == 405
    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED


def test_another_creators_payout_page_cannot_cancel_it(client, payout, other_creator):
    client.force_login(other_creator)

    response = client.post(f"/earnings/payouts/{payout.payout_no}/cancel/")

    assert response.status_code == 404
    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED
