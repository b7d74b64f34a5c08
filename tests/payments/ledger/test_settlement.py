"""Settlement: a sale's creator share leaves the hold after SETTLEMENT_HOLD_DAYS, once."""

import io

import pytest
from django.core.management import call_command

from payments.models import LedgerAccount, LedgerEntry
from payments.selectors.ledger import ledger_violations
from payments.services.settlement import earnings_settle_due
from payments.tasks import earnings_settle_due_task
from tests.payments.ledger.helpers import balance, refund, sell

pytestmark = pytest.mark.django_db

PENDING, AVAILABLE = LedgerAccount.Kind.CREATOR_PENDING, LedgerAccount.Kind.CREATOR_AVAILABLE
SETTLEMENT = LedgerEntry.Kind.SETTLEMENT


def test_a_sale_still_within_its_hold_stays_pending(course_at, creator):
    sell(course_at(1000), days_ago=6.9)

    assert earnings_settle_due() == 0

    assert (balance(creator, PENDING), balance(creator, AVAILABLE)) == (900, 0)


def test_a_sale_whose_hold_ended_becomes_available(course_at, creator):
    payment = sell(course_at(1000), days_ago=7.01)

    assert earnings_settle_due() == 1

    assert (balance(creator, PENDING), balance(creator, AVAILABLE)) == (0, 900)
    entry = LedgerEntry.objects.get(kind=SETTLEMENT)
    assert (entry.reference, entry.payment, entry.creator) == (f"settle:{payment.out_trade_no}", payment, creator)
    assert ledger_violations() == []


def test_settling_again_changes_nothing(course_at, creator):
    sell(course_at(1000), days_ago=8)
    earnings_settle_due()

    assert earnings_settle_due() == 0

    assert LedgerEntry.objects.filter(kind=SETTLEMENT).count() == 1
    assert balance(creator, AVAILABLE) == 900


def test_a_partly_refunded_held_sale_settles_what_is_left_of_it(course_at, creator, staff):
    payment = sell(course_at(1000), days_ago=8)
    refund(payment, staff=staff, amount_fen=400)

    earnings_settle_due()

    assert (balance(creator, PENDING), balance(creator, AVAILABLE)) == (0, 900 - 360)
    assert ledger_violations() == []


def test_a_fully_refunded_held_sale_has_nothing_to_settle(course_at, creator, staff):
    refund(sell(course_at(1000), days_ago=8), staff=staff)

    assert earnings_settle_due() == 0

    assert not LedgerEntry.objects.filter(kind=SETTLEMENT).exists()
    assert (balance(creator, PENDING), balance(creator, AVAILABLE)) == (0, 0)


def test_the_settle_earnings_command_settles_due_sales(course_at, creator):
    course = course_at(1000)
    sell(course, days_ago=8)
    sell(course, days_ago=1)
    out = io.StringIO()

    call_command("settle_earnings", stdout=out)

    assert "Settled 1 sale(s)." in out.getvalue()
    assert (balance(creator, PENDING), balance(creator, AVAILABLE)) == (900, 900)


def test_the_periodic_task_settles_due_sales(course_at, creator):
    sell(course_at(1000), days_ago=8)

    assert earnings_settle_due_task.delay().get() == 1

    assert balance(creator, AVAILABLE) == 900
