"""One sale per purchase: the database refuses a second purchase of a course by one learner, a
second payment through any path becomes a duplicate, and `ledger_check` names a second live sale.
(The same under real concurrency: test_one_sale_races.py, on PostgreSQL.)
"""

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from courses.models import Enrollment
from payments.locks import purchase_lock
from payments.models import LedgerEntry, Order, Payment, Refund
from payments.services import ledger
from tests.factories import OrderFactory, PaymentFactory, UserFactory
from tests.payments.ledger.helpers import pay, refund, sell

pytestmark = pytest.mark.django_db

preflight = importlib.import_module("payments.migrations.0020_one_purchase_per_learner_and_course")


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


def paid_order(learner, course, status=Order.Status.PAID, **fields) -> Order:
    return OrderFactory(learner=learner, course=course, status=status, paid_at=timezone.now(), **fields)


def test_the_database_refuses_a_second_paid_order_of_one_learner_for_one_course(learner, course):
    paid_order(learner, course)

    with pytest.raises(IntegrityError), transaction.atomic():
        paid_order(learner, course)


def test_a_partially_refunded_order_still_holds_the_purchase(learner, course):
    paid_order(learner, course, status=Order.Status.PARTIALLY_REFUNDED, refunded_fen=100)

    with pytest.raises(IntegrityError), transaction.atomic():
        paid_order(learner, course)


def test_after_a_full_refund_the_learner_may_buy_the_course_again(learner, course, staff):
    first = sell(course, learner=learner)
    refund(first, staff=staff)

    again = sell(course, learner=learner)

    assert again.status == Payment.Status.SUCCEEDED
    assert not again.is_duplicate
    assert Order.objects.get(pk=again.order_id).status == Order.Status.PAID
    assert Enrollment.objects.get(learner=learner, course=course).reference == again.order.order_no


def test_another_learner_may_buy_the_same_course(learner, course):
    paid_order(learner, course)

    paid_order(UserFactory(), course)

    assert Order.objects.filter(course=course, status=Order.Status.PAID).count() == 2


def test_a_late_payment_of_a_closed_order_after_another_order_was_paid_is_a_refunded_duplicate(learner, course):
    closed = OrderFactory(
        learner=learner, course=course, status=Order.Status.CLOSED, closed_at=timezone.now(), close_reason="expired"
    )
    late = PaymentFactory(order=closed)
    sell(course, learner=learner)

    late = pay(late)

    assert late.is_duplicate
    assert Refund.objects.get(payment=late).kind == Refund.Kind.DUPLICATE
    assert Order.objects.get(pk=closed.pk).status == Order.Status.CLOSED
    assert LedgerEntry.objects.filter(payment=late, kind=LedgerEntry.Kind.DUPLICATE_PAYMENT).count() == 1


def test_a_revoked_enrollment_does_not_hide_a_paid_order(learner, course):
    """The paid order itself, not only the enrollment it granted, makes the next payment a duplicate."""
    first = sell(course, learner=learner)
    Enrollment.objects.filter(learner=learner, course=course).update(revoked_at=timezone.now())

    second = pay(PaymentFactory(order__learner=learner, order__course=course))

    assert second.is_duplicate
    assert Order.objects.get(pk=first.order_id).status == Order.Status.PAID


@pytest.mark.django_db(transaction=True)
def test_the_purchase_lock_needs_a_transaction(learner, course):
    with pytest.raises(transaction.TransactionManagementError):
        purchase_lock(learner_id=learner.pk, course_id=course.pk)


def test_ledger_check_names_a_second_sale_of_one_course_to_one_learner(learner, course):
    sell(course, learner=learner)
    # What a path that forgot the purchase lock and the order status would leave behind.
    closed = OrderFactory(
        learner=learner, course=course, status=Order.Status.CLOSED, closed_at=timezone.now(), close_reason="expired"
    )
    forgotten = PaymentFactory(order=closed, status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now())
    ledger.ledger_sale_post(payment=forgotten)

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_check", stdout=io.StringIO(), stderr=err)

    assert f"learner #{learner.pk}: 2 sales of course #{course.pk} not refunded in full" in err.getvalue()


def test_ledger_check_accepts_a_purchase_again_after_a_full_refund(learner, course, staff):
    refund(sell(course, learner=learner), staff=staff)
    sell(course, learner=learner)

    out = io.StringIO()
    call_command("ledger_check", stdout=out, stderr=io.StringIO())

    assert out.getvalue().startswith("Ledger OK")


def test_the_migration_refuses_learners_who_already_paid_twice_and_names_them(learner, course):
    # As the bug left them before the constraint existed: its index is dropped inside the test's
    # transaction, which is rolled back afterwards.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX order_one_purchase_per_course")
    paid_order(learner, course)
    paid_order(learner, course)

    with pytest.raises(RuntimeError, match=rf"learner #{learner.pk} / course #{course.pk}"):
        preflight.refuse_existing_second_purchases(apps, None)


def test_the_migration_passes_one_purchase_and_refunded_ones(learner, course):
    paid_order(learner, course, status=Order.Status.REFUNDED, refunded_fen=course.price_fen)
    paid_order(learner, course)

    preflight.refuse_existing_second_purchases(apps, None)
