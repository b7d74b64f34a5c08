"""Each payout's statement: the sales (and their refunds) it settles, from its allocations, as a page
and a PDF, for its creator (and staff who may view payouts) only."""

import pytest
from django.contrib.auth.models import Permission

from payments.selectors.payouts import payout_statement_get
from payments.services.payouts import payout_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, UserFactory
from tests.payments.ledger.helpers import refund, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def payout(creator, staff, settings):
    """¥135.00 paid from two sales: the older refunded ¥50.00 (¥45.00 of it from the creator) first."""
    settings.PAYOUT_MIN_FEN = 10000
    course = CourseFactory(creator=creator, price_fen=10000, title="Python 入门")
    older, newer = sell(course, days_ago=9), sell(course, days_ago=8)
    earnings_settle_due()
    refund(older, staff=staff, amount_fen=5000)
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=13500)
    payout.sales = (older, newer)
    return payout


def test_the_statement_lists_the_sales_and_refunds_it_settles(creator, payout):
    statement = payout_statement_get(payout_no=payout.payout_no, user=creator)

    older, newer = payout.sales
    assert [line.order_no for line in statement.lines] == [older.order.order_no, newer.order.order_no]
    first = statement.lines[0]
    assert (first.gross_fen, first.fee_fen, first.share_fen) == (10000, 1000, 9000)
    assert [(r.amount_fen, r.from_creator_fen) for r in first.refunds] == [(5000, 4500)]
    assert [line.paid_fen for line in statement.lines] == [4500, 9000]
    assert statement.total_fen == payout.amount_fen == 13500


def test_the_statement_page_shows_every_line(client, creator, payout):
    client.force_login(creator)

    page = client.get(f"/earnings/payouts/{payout.payout_no}/statement/").content.decode()

    for sale in payout.sales:
        assert sale.order.order_no in page
    assert "Python 入门" in page
    assert 'data-figure="statement_total">¥135.00' in page


def test_the_statement_pdf(client, creator, payout):
    client.force_login(creator)

    response = client.get(f"/earnings/payouts/{payout.payout_no}/statement.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="statement-{payout.payout_no}.pdf"' in response["Content-Disposition"]


def test_another_creator_cannot_see_the_statement(client, payout, other_creator):
    client.force_login(other_creator)

    assert client.get(f"/earnings/payouts/{payout.payout_no}/statement/").status_code == 404
    assert client.get(f"/earnings/payouts/{payout.payout_no}/statement.pdf").status_code == 404


def test_staff_who_may_view_payouts_see_any_statement(client, payout):
    finance = UserFactory(is_staff=True)
    finance.user_permissions.add(Permission.objects.get(codename="view_payout"))
    client.force_login(finance)

    assert client.get(f"/earnings/payouts/{payout.payout_no}/statement.pdf").status_code == 200


def test_staff_without_that_permission_do_not(client, payout):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(f"/earnings/payouts/{payout.payout_no}/statement/").status_code == 404
