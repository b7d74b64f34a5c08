"""The creator's earnings pages: figures read from the ledger, the creator's own only, a constant number
of queries however many sales."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from knowpay.exports import csv_cell
from knowpay.money import format_cny
from payments.models import LedgerAccount, LedgerLine, Payout
from payments.services.payouts import payout_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, UserFactory
from tests.payments.ledger.helpers import balance, pay_twice, refund, sell

pytestmark = pytest.mark.django_db

Kind = LedgerAccount.Kind
DASHBOARD = "/earnings/"


@pytest.fixture
def creator_client(client, creator):
    client.force_login(creator)
    return client


@pytest.fixture
def history(creator, staff, settings):
    """Two courses; sales over ten days, refunds before and after settlement, a duplicate, a payout."""
    settings.PAYOUT_MIN_FEN = 100
    first, second = CourseFactory(creator=creator, price_fen=1290), CourseFactory(creator=creator, price_fen=9900)
    sales = [sell(first, days_ago=days) for days in (10, 9, 3, 1)] + [sell(second, days_ago=d) for d in (8, 2)]
    earnings_settle_due()
    refund(sales[0], staff=staff, amount_fen=500)  # settled: out of available
    refund(sales[3], staff=staff)  # held: out of pending, in full
    pay_twice(sales[4])
    payout_request(creator=creator, requested_by=creator, amount_fen=1000)
    return sales


def figure(html: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]+)<', html).group(1)


def ledger_sum(**filters) -> int:
    return LedgerLine.objects.filter(**filters).aggregate(total=Sum("amount_fen"))["total"] or 0


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_user_who_is_not_a_creator_is_sent_to_their_profile(client):
    client.force_login(UserFactory())

    response = client.get(DASHBOARD)

    assert response["Location"] == reverse("accounts:profile")


@pytest.mark.parametrize("page", ["payout", "sales.csv", "payouts.csv", "dashboard"])
def test_another_creators_earnings_and_payouts_never_show(creator_client, other_creator, settings, page):
    settings.PAYOUT_MIN_FEN = 100
    sale = sell(CourseFactory(creator=other_creator, price_fen=5000), days_ago=8)
    earnings_settle_due()
    theirs = payout_request(creator=other_creator, requested_by=other_creator, amount_fen=4500)
    url = {
        "payout": f"/earnings/payouts/{theirs.payout_no}/",
        "sales.csv": "/earnings/sales.csv",
        "payouts.csv": "/earnings/payouts.csv",
        "dashboard": DASHBOARD,
    }[page]

    response = creator_client.get(url)

    body = b"".join(response.streaming_content) if response.streaming else response.content
    if page == "payout":
        assert response.status_code == 404
    assert sale.order.order_no.encode() not in body
    assert theirs.payout_no.encode() not in body


@pytest.mark.parametrize(
    ("amount", "message"),
    [("99.99", "minimum payout is ¥100.00"), ("1e3", "at most two decimals"), ("500.00", "at most ¥45.00")],
)
def test_a_refused_payout_request_shows_why_and_reserves_nothing(creator_client, creator, amount, message):
    sell(CourseFactory(creator=creator, price_fen=5000), days_ago=8)
    earnings_settle_due()

    response = creator_client.post("/earnings/payouts/", {"amount": amount}, follow=True)

    assert message in response.content.decode()
    assert not Payout.objects.exists()
    assert balance(creator, Kind.CREATOR_AVAILABLE) == 4500


def test_a_payout_requested_on_the_page_is_reserved_and_shown(creator_client, creator, settings):
    settings.PAYOUT_MIN_FEN = 100
    sale = sell(CourseFactory(creator=creator, price_fen=5000), days_ago=8)
    earnings_settle_due()

    response = creator_client.post("/earnings/payouts/", {"amount": "30.00"}, follow=True)

    payout = Payout.objects.get()
    assert response.redirect_chain[-1][0] == f"/earnings/payouts/{payout.payout_no}/"
    html = response.content.decode()
    assert figure(html, "amount") == "¥30.00"
    assert sale.order.order_no in html  # the sale it pays
    assert balance(creator, Kind.CREATOR_AVAILABLE) == 1500


def test_the_dashboard_figures_equal_the_ledger(creator_client, creator, history):
    html = creator_client.get(DASHBOARD).content.decode()

    mine = {"entry__creator": creator}
    expected = {
        "available": balance(creator, Kind.CREATOR_AVAILABLE),
        "pending": balance(creator, Kind.CREATOR_PENDING),
        "in_payout": balance(creator, Kind.CREATOR_IN_TRANSIT),
        "gross": ledger_sum(**mine, entry__kind="sale", account__kind=Kind.GATEWAY_CLEARING),
        "fees": -ledger_sum(**mine, entry__kind="sale", account__kind=Kind.PLATFORM_REVENUE),
        "net": -ledger_sum(**mine, entry__kind="sale", account__creator=creator),
        "refunded": -ledger_sum(**mine, entry__kind="refund", account__kind=Kind.GATEWAY_CLEARING),
        "refunded_net": ledger_sum(**mine, entry__kind="refund", account__creator=creator),
    }
    expected["kept"] = expected["net"] - expected["refunded_net"]
    shown = {name: figure(html, name) for name in expected}
    assert shown == {name: format_cny(fen) for name, fen in expected.items()}
    # And those are the history's numbers: 4 x 1290 + 2 x 9900 gross, 10% fees.
    assert (expected["gross"], expected["fees"], expected["refunded"]) == (24960, 2496, 1790)
    assert expected["available"] + expected["pending"] + expected["in_payout"] == expected["kept"]


def test_held_earnings_show_the_day_they_become_available(creator_client, creator, settings):
    settings.SETTLEMENT_HOLD_DAYS = 7
    course = CourseFactory(creator=creator, price_fen=1000)
    sell(course, days_ago=1)
    sell(course, days_ago=1)
    sell(course, days_ago=2)

    summary = creator_client.get(DASHBOARD).context["summary"]

    today = timezone.localdate()
    parts = [(part.available_on, part.amount_fen) for part in summary.pending_parts]
    assert parts == [(today + dt.timedelta(days=5), 900), (today + dt.timedelta(days=6), 1800)]


def test_the_chart_shows_each_day_of_the_chosen_period(creator_client, creator, history):
    today = timezone.localdate()
    start = today - dt.timedelta(days=13)

    response = creator_client.get(DASHBOARD, {"start": start.isoformat(), "end": today.isoformat()})

    chart = response.context["chart"]
    assert len(chart["bars"]) == 14
    period_net = -ledger_sum(
        account__creator=creator,
        account__kind__in=[Kind.CREATOR_PENDING, Kind.CREATOR_AVAILABLE],
        entry__kind__in=["sale", "refund"],
    )
    assert response.context["period_net_fen"] == period_net
    # Each day shows what was paid or refunded that day, not when it was posted (all of it today).
    bars = {bar["title"][:10]: bar for bar in chart["bars"]}
    ten_days_ago = today - dt.timedelta(days=10)
    assert bars[f"{ten_days_ago:%Y-%m-%d}"]["title"] == f"{ten_days_ago:%Y-%m-%d}: ¥11.61 (sales ¥11.61, refunds ¥0.00)"
    assert bars[f"{today:%Y-%m-%d}"]["title"] == f"{today:%Y-%m-%d}: -¥16.11 (sales ¥0.00, refunds ¥16.11)"
    assert sum(bar["height"] > 0 for bar in chart["bars"]) == 7


def test_an_impossible_period_falls_back_to_the_last_thirty_days(creator_client, creator):
    response = creator_client.get(DASHBOARD, {"start": "2026-12-31", "end": "2026-01-01"}, follow=True)

    assert len(response.context["chart"]["bars"]) == 30
    assert "That period cannot be shown" in response.content.decode()


@pytest.mark.parametrize("sales", [3, 30])
def test_the_dashboard_needs_the_same_queries_however_many_sales(
    creator_client, creator, staff, settings, sales, django_assert_max_num_queries
):
    settings.PAYOUT_MIN_FEN = 100
    course = CourseFactory(creator=creator, price_fen=1000)
    payments = [sell(course, days_ago=8 + n % 3) for n in range(sales)]
    earnings_settle_due()
    refund(payments[0], staff=staff, amount_fen=100)
    for _ in range(2):
        payout_request(creator=creator, requested_by=creator, amount_fen=sales * 300)

    # 12 for the dashboard, 1 for the payout schedule, 1 for the header's unread count.
    with django_assert_max_num_queries(14):
        response = creator_client.get(DASHBOARD)

    assert response.status_code == 200


def test_the_sales_csv_lists_every_sale_with_its_split(creator_client, creator, history):
    response = creator_client.get("/earnings/sales.csv")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert len(rows) == 6
    by_order = {row["order_no"]: row for row in rows}
    refunded = by_order[history[0].order.order_no]
    assert (refunded["gross_yuan"], refunded["fee_yuan"], refunded["net_yuan"]) == ("12.90", "1.29", "11.61")
    assert (refunded["refunded_yuan"], refunded["refunded_from_you_yuan"]) == ("5.00", "4.50")
    assert by_order[history[3].order.order_no]["status"] == "refunded"
    paid_at = timezone.localtime(history[0].succeeded_at)
    assert refunded["time"] == f"{paid_at:%Y-%m-%d %H:%M:%S}"
    assert [row["order_no"] for row in rows][:2] == [history[3].order.order_no, history[5].order.order_no]


def test_the_payouts_csv_lists_payouts_with_the_sales_they_paid(creator_client, creator, history):
    response = creator_client.get("/earnings/payouts.csv")

    [row] = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    payout = Payout.objects.get()
    assert (row["payout_no"], row["amount_yuan"], row["status"]) == (payout.payout_no, "10.00", "requested")
    # The oldest settled sale brought 11.61 less 4.50 refunded after settlement; the next pays the rest.
    assert row["sales_paid"] == f"{history[0].order.order_no} 7.11; {history[1].order.order_no} 2.89"


@pytest.mark.parametrize("title", ['=HYPERLINK("http://x")', "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_text(creator_client, creator, title):
    payment = sell(CourseFactory(creator=creator, price_fen=1290, title=title))

    response = creator_client.get("/earnings/sales.csv")

    [row] = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert row["order_no"] == payment.order.order_no
    assert row["course"] == "'" + title


def test_negative_amounts_in_csv_stay_numbers():
    assert csv_cell("-12.90") == "-12.90"
    assert csv_cell("-1e3") == "'-1e3"
