"""A payout approved in sandbox mode is transferred by the sandbox gateway, over real HTTP, to its simulator."""

import pytest

from payments.models import LedgerAccount, Payout, SimulatedTransfer
from payments.selectors.ledger import ledger_violations
from payments.services.payouts import payout_approve, payout_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, UserFactory
from tests.payments.ledger.helpers import sell, shared_balance

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_approved_payout_reaches_the_creator_through_the_sandbox_gateway(gateway_site, creator, settings):
    settings.PAYOUT_TRANSFER_CHANNEL = "sandbox"
    sell(CourseFactory(creator=creator, price_fen=20000), days_ago=8)
    earnings_settle_due()
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=15000)

    payout_approve(payout=payout, staff=UserFactory(is_staff=True))  # transferred after commit

    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    transfer = SimulatedTransfer.objects.get(out_biz_no=payout.payout_no)
    assert (transfer.amount_fen, transfer.payee_account) == (15000, creator.creator_profile.payout_alipay_account)
    assert payout.transfer_no == transfer.transfer_no
    assert shared_balance(LedgerAccount.Kind.GATEWAY_CLEARING, "sandbox") == 20000 - 15000
    assert ledger_violations() == []
