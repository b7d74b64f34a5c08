"""Finance in the admin: exports (CSV/XLSX, export only, staff with view permission, formulas
neutralised), date-range filters, the site's name, the order's money trail down to the payout that
paid the sale, and the alert list's actions."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from payments.models import (
    Alert,
    AlertSilence,
    LedgerLine,
    Order,
    Payment,
    Payout,
    ReconciliationItem,
    ReconciliationRun,
    Refund,
)
from payments.services.alerts import alert_raise
from payments.services.payouts import payout_request
from payments.services.settlement import earnings_settle_due
from tests.admin_helpers import post_action, staff_with
from tests.factories import CourseFactory, UserFactory
from tests.payments.ledger.helpers import refund, sell

pytestmark = pytest.mark.django_db

EXPORTED = [Order, Payment, Refund, LedgerLine, Payout, ReconciliationItem]


def view_permission(model):
    return f"payments.view_{model._meta.model_name}"


def export_url(model):
    return reverse(f"admin:payments_{model._meta.model_name}_export")


def export(client, model, *, file_format="0", query=""):
    """Post the export form as the admin page does: 0 is CSV, 1 is XLSX."""
    return client.post(f"{export_url(model)}{query}", {"format": file_format, "resource": "0"})


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def paid_orders(creator, staff):
    """Two paid orders of a course whose title would be a formula in a spreadsheet, one refunded in part."""
    course = CourseFactory(creator=creator, price_fen=1290, title='=HYPERLINK("http://evil","x")')
    first, second = sell(course, days_ago=3), sell(course, days_ago=1)
    refund(first, staff=staff, amount_fen=500)
    return first.order, second.order


@pytest.mark.parametrize("model", EXPORTED, ids=lambda m: m.__name__)
def test_staff_who_may_view_a_money_list_can_export_it(client, model, paid_orders):
    client.force_login(staff_with(view_permission(model)))

    response = export(client, model)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("model", EXPORTED, ids=lambda m: m.__name__)
def test_staff_who_may_not_view_it_cannot_export_it(client, model):
    client.force_login(staff_with(*(view_permission(m) for m in EXPORTED if m is not model)))

    assert client.get(export_url(model)).status_code == 403
    assert export(client, model).status_code == 403


@pytest.mark.parametrize("model", EXPORTED, ids=lambda m: m.__name__)
def test_nothing_can_be_imported(model):
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:payments_{model._meta.model_name}_import")


def test_the_orders_csv_has_yuan_amounts_and_neutralised_text(client, paid_orders):
    client.force_login(staff_with("payments.view_order"))

    rows = {row["order_no"]: row for row in csv_rows(export(client, Order))}

    first = rows[paid_orders[0].order_no]
    assert (first["amount_yuan"], first["refunded_yuan"], first["status"]) == ("12.90", "5.00", "partially_refunded")
    assert first["course"] == '\'=HYPERLINK("http://evil","x")'


def test_every_formula_start_is_neutralised_in_ledger_lines(client, creator):
    for title in ("+SUM(A1)", "-2+3", "@cmd"):
        sell(CourseFactory(creator=creator, title=title, price_fen=100))
    client.force_login(staff_with("payments.view_ledgerline"))

    descriptions = [row["description"] for row in csv_rows(export(client, LedgerLine))]

    assert descriptions
    assert all(not d.startswith(("=", "+", "-", "@")) for d in descriptions), descriptions


def test_ledger_lines_export_debits_and_credits_in_yuan(client, paid_orders):
    client.force_login(staff_with("payments.view_ledgerline"))

    rows = csv_rows(export(client, LedgerLine))

    sale = [row for row in rows if row["entry_kind"] == "sale" and row["account_kind"] == "gateway_clearing"]
    assert {row["debit_yuan"] for row in sale} == {"12.90"}
    total_debits = sum(float(row["debit_yuan"] or 0) for row in rows)
    total_credits = sum(float(row["credit_yuan"] or 0) for row in rows)
    assert round(total_debits, 2) == round(total_credits, 2)


def test_the_orders_xlsx_has_numbers_for_amounts_and_text_neutralised(client, paid_orders):
    client.force_login(staff_with("payments.view_order"))

    response = export(client, Order, file_format="1")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    values = [dict(zip(header, [cell.value for cell in row], strict=True)) for row in sheet.iter_rows(min_row=2)]
    first = next(v for v in values if v["order_no"] == paid_orders[0].order_no)
    assert first["amount_yuan"] == pytest.approx(12.90)
    assert first["course"].startswith("'=")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_the_export_follows_the_date_range_filter(client, paid_orders):
    client.force_login(staff_with("payments.view_order"))
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()

    rows = csv_rows(export(client, Order, query=f"?paid_at__range__gte={yesterday}"))

    assert [row["order_no"] for row in rows] == [paid_orders[1].order_no]


@pytest.mark.parametrize(
    ("model", "parameter"),
    [
        (Order, "created_at__range"),
        (Payment, "created_at__range"),
        (Refund, "created_at__range"),
        (LedgerLine, "entry__occurred_at__range"),
        (Payout, "created_at__range"),
        (ReconciliationItem, "run__day__range"),
        (ReconciliationRun, "day__range"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_money_lists_filter_by_a_date_range(admin_client, model, parameter, paid_orders):
    url = reverse(f"admin:payments_{model._meta.model_name}_changelist")
    today = timezone.localdate().isoformat()

    in_range = admin_client.get(url, {f"{parameter}__gte": "2000-01-01", f"{parameter}__lte": today})
    nonsense = admin_client.get(url, {f"{parameter}__gte": "yesterday-ish"})

    assert in_range.status_code == 200
    assert nonsense.status_code == 200


def test_the_date_range_filter_narrows_the_list(admin_client, paid_orders):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()

    page = admin_client.get(reverse("admin:payments_order_changelist"), {"paid_at__range__gte": yesterday})

    assert paid_orders[1].order_no in page.content.decode()
    assert paid_orders[0].order_no not in page.content.decode()


def test_the_admin_is_named(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert "KnowPay administration" in page


def test_the_order_page_shows_which_payout_paid_the_sale(admin_client, creator, settings):
    settings.PAYOUT_MIN_FEN = 100
    payment = sell(CourseFactory(creator=creator, price_fen=10000), days_ago=9)
    earnings_settle_due()
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=9000)

    page = admin_client.get(reverse("admin:payments_order_change", args=[payment.order_id])).content.decode()

    assert f"¥90.00 of this sale in payout {payout.payout_no}" in page


# --- Alerts in the admin -------------------------------------------------------------------------


@pytest.fixture
def open_alert(db):
    return alert_raise(kind="outbox_backlog", incident_key="outbox_backlog", subject="E-mails waiting")


def test_finance_resolves_an_alert_from_the_list(client, open_alert):
    finance = UserFactory(is_staff=True)
    finance.groups.add(Group.objects.get(name="Finance"))
    client.force_login(finance)

    post_action(client, Alert, "resolve", open_alert)

    alert = Alert.objects.get(pk=open_alert.pk)
    assert (alert.status, alert.resolved_by) == ("resolved", finance)


def test_finance_silences_a_kind_for_a_day(client, open_alert):
    finance = UserFactory(is_staff=True)
    finance.groups.add(Group.objects.get(name="Finance"))
    client.force_login(finance)

    post_action(client, Alert, "silence_kind", open_alert)

    silence = AlertSilence.objects.get()
    assert silence.kind == "outbox_backlog"
    assert silence.until > timezone.now() + dt.timedelta(hours=23)


def test_staff_who_may_only_view_alerts_change_nothing(client, open_alert):
    client.force_login(staff_with("payments.view_alert"))

    post_action(client, Alert, "resolve", open_alert)
    post_action(client, Alert, "silence_kind", open_alert)

    assert Alert.objects.get(pk=open_alert.pk).status == "open"
    assert not AlertSilence.objects.exists()


def test_a_silence_can_be_ended_early(client, open_alert):
    silence = AlertSilence.objects.create(
        kind="outbox_backlog", until=timezone.now() + dt.timedelta(hours=5), reason="x"
    )
    client.force_login(staff_with("payments.view_alertsilence", "payments.silence_alert"))

    post_action(client, AlertSilence, "end_now", silence)

    assert AlertSilence.objects.get().until <= timezone.now()
