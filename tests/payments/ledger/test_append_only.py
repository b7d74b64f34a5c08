"""Ledger rows are written once: the ORM refuses changes, and PostgreSQL refuses them too."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from payments.models import AppendOnlyError, LedgerAccount, LedgerEntry, LedgerLine
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale(course_at):
    return LedgerEntry.objects.get(payment=sell(course_at(1290)))


def test_saving_an_existing_entry_is_refused(sale):
    sale.description = "rewritten"

    with pytest.raises(AppendOnlyError):
        sale.save()

    assert LedgerEntry.objects.get(pk=sale.pk).description != "rewritten"


def test_saving_an_existing_line_is_refused(sale):
    line = sale.lines.first()
    line.amount_fen += 1

    with pytest.raises(AppendOnlyError):
        line.save()


@pytest.mark.parametrize("model", [LedgerEntry, LedgerLine])
def test_deleting_ledger_rows_is_refused(sale, model):
    row = model.objects.first()

    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()

    assert model.objects.filter(pk=row.pk).exists()


def test_bulk_updates_of_lines_are_refused(sale):
    with pytest.raises(AppendOnlyError):
        LedgerLine.objects.filter(entry=sale).update(amount_fen=1)

    assert sorted(sale.lines.values_list("amount_fen", flat=True)) == [-1161, -129, 1290]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE payments_ledgerline SET amount_fen = amount_fen + 1",
        "DELETE FROM payments_ledgerline",
        "UPDATE payments_ledgerentry SET description = 'x'",
        "DELETE FROM payments_ledgerentry",
    ],
)
def test_postgresql_refuses_changes_made_around_the_orm(sale, statement):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert LedgerLine.objects.filter(entry=sale).count() == 3


def checked_now(write) -> None:
    """Run `write` in a savepoint and make PostgreSQL run its deferred checks, as it would at commit."""
    with transaction.atomic():
        write()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.postgres
def test_postgresql_refuses_an_entry_whose_lines_do_not_balance(sale):
    clearing = LedgerAccount.objects.get(kind=LedgerAccount.Kind.GATEWAY_CLEARING)

    def forge():
        entry = LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.SETTLEMENT,
            reference="forged",
            description="forged",
            payment_id=sale.payment_id,
            occurred_at=timezone.now(),
        )
        LedgerLine.objects.create(entry=entry, account=clearing, amount_fen=500)

    with pytest.raises(IntegrityError, match="does not balance"):
        checked_now(forge)

    assert not LedgerEntry.objects.filter(reference="forged").exists()


@pytest.mark.postgres
def test_postgresql_refuses_an_entry_without_lines(sale):
    def forge():
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.SETTLEMENT,
            reference="empty",
            description="empty",
            payment_id=sale.payment_id,
            occurred_at=timezone.now(),
        )

    with pytest.raises(IntegrityError, match="does not balance"):
        checked_now(forge)
