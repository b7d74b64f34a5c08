"""The creator's earnings pages: the dashboard, CSV exports, payout requests. Thin: selectors read the
ledger, services decide. Everything is looked up among the signed-in creator's own earnings, so
another creator's payout is a 404."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import creator_profile_get
from knowpay.api import ServiceError
from knowpay.crypto import mask
from knowpay.exports import csv_cell
from knowpay.forms import YuanAmountField
from knowpay.money import fen_to_yuan, format_cny
from knowpay.ratelimit import rate_limit
from payments import selectors
from payments.models import LedgerEntry, Payout, PayoutSchedule
from payments.receipts import payout_statement_pdf
from payments.selectors.earnings import DayEarnings
from payments.selectors.payouts import payout_schedule_get, payout_schedule_next, payout_statement_get
from payments.services.payouts import payout_cancel, payout_request, payout_schedule_set

CHART_DAYS_DEFAULT = 30
CHART_DAYS_MAX = 366
# No sale is older than the platform; dates far from today are mistakes (and 9999-12-31 has no next day).
EARLIEST_DAY = dt.date(2000, 1, 1)
RECENT_SALES = 20
RECENT_PAYOUTS = 10


def creator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_creator:
            messages.info(request, "Earnings are for creators. Become one here to sell your courses.")
            return redirect("accounts:profile")
        return view(request, *args, **kwargs)

    return wrapper


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        latest = today + dt.timedelta(days=CHART_DAYS_MAX)
        for day in (data.get("start"), data.get("end")):
            if day is not None and not EARLIEST_DAY <= day <= latest:
                raise forms.ValidationError(f"Choose days between {EARLIEST_DAY:%Y-%m-%d} and {latest:%Y-%m-%d}.")
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=CHART_DAYS_DEFAULT - 1)
        if start > end:
            raise forms.ValidationError("The period must start before it ends.")
        if (end - start).days >= CHART_DAYS_MAX:
            raise forms.ValidationError(f"Choose a period of at most {CHART_DAYS_MAX} days.")
        return {"start": start, "end": end}


class PayoutRequestForm(forms.Form):
    amount = YuanAmountField(label="Amount (yuan)", help_text="e.g. 150.00")


class PayoutScheduleForm(forms.Form):
    frequency = forms.ChoiceField(label="Automatic payouts", choices=PayoutSchedule.Frequency.choices)
    threshold = YuanAmountField(label="When at least (yuan)", help_text="e.g. 200.00")


def _chart(days: list[DayEarnings]) -> dict:
    """Bar geometry of an inline SVG: one bar per day, up for net earnings, down for net refunds."""
    width, plot_height, top = 720, 170, 10
    highest = max([0, *(day.net_fen for day in days)])
    lowest = min([0, *(day.net_fen for day in days)])
    span = (highest - lowest) or 1
    baseline = top + plot_height * highest / span
    slot = width / len(days)
    bars = []
    for index, day in enumerate(days):
        height = plot_height * abs(day.net_fen) / span
        bars.append(
            {
                "x": round(index * slot + slot * 0.15, 2),
                "y": round(baseline - height if day.net_fen >= 0 else baseline, 2),
                "width": round(slot * 0.7, 2),
                "height": round(height, 2),
                "negative": day.net_fen < 0,
                "title": (
                    f"{day.day:%Y-%m-%d}: {format_cny(day.net_fen)} "
                    f"(sales {format_cny(day.sales_fen)}, refunds {format_cny(day.refunds_fen)})"
                ),
            }
        )
    labels = [
        {"x": round(index * slot + slot / 2, 2), "text": f"{days[index].day:%m-%d}"}
        for index in sorted({0, len(days) // 2, len(days) - 1})
    ]
    return {
        "width": width,
        "height": top + plot_height + 24,
        "baseline": round(baseline, 2),
        "bars": bars,
        "labels": labels,
        "label_y": top + plot_height + 18,
        "top_label": format_cny(highest),
        "bottom_label": format_cny(lowest),
    }


@creator_required
@require_GET
def earnings(request: HttpRequest) -> HttpResponse:
    creator = request.user
    period = PeriodForm(request.GET)
    if not period.is_valid():
        period = PeriodForm({})
        period.is_valid()
        messages.error(request, "That period cannot be shown; showing the last 30 days.")
    start, end = period.cleaned_data["start"], period.cleaned_data["end"]
    days = selectors.earnings_daily(creator=creator, start=start, end=end)
    summary = selectors.earnings_summary(creator=creator)
    profile = creator_profile_get(user=creator)
    schedule = payout_schedule_get(creator=creator)
    suggested = summary.available_fen if summary.available_fen >= settings.PAYOUT_MIN_FEN else settings.PAYOUT_MIN_FEN
    context = {
        "summary": summary,
        "period_form": PeriodForm(initial={"start": start, "end": end}),
        "start": start,
        "end": end,
        "period_net_fen": sum(day.net_fen for day in days),
        "chart": _chart(days),
        "courses": selectors.earnings_by_course(creator=creator),
        "sales": selectors.sale_list_for_creator(creator=creator)[:RECENT_SALES],
        "payouts": selectors.payout_list_for_creator(creator=creator)[:RECENT_PAYOUTS],
        "request_form": PayoutRequestForm(initial={"amount": fen_to_yuan(suggested)}),
        "payout_min_fen": settings.PAYOUT_MIN_FEN,
        "can_request": summary.available_fen >= settings.PAYOUT_MIN_FEN,
        "payout_account": mask(profile.payout_alipay_account) if profile else "",
        "schedule_form": _schedule_form(schedule),
        "next_payout": payout_schedule_next(schedule=schedule),
    }
    return render(request, "payments/earnings/dashboard.html", context)


def _schedule_form(schedule: PayoutSchedule | None) -> PayoutScheduleForm:
    frequency = schedule.frequency if schedule else PayoutSchedule.Frequency.OFF
    threshold = schedule.threshold_fen if schedule else settings.PAYOUT_MIN_FEN
    return PayoutScheduleForm(initial={"frequency": frequency, "threshold": fen_to_yuan(threshold)})


@creator_required
@require_POST
def payout_schedule_view(request: HttpRequest) -> HttpResponse:
    form = PayoutScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
        return redirect("payments:earnings")
    try:
        schedule = payout_schedule_set(
            creator=request.user, frequency=form.cleaned_data["frequency"], threshold_fen=form.cleaned_data["threshold"]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("payments:earnings")
    if schedule.frequency == PayoutSchedule.Frequency.OFF:
        messages.success(request, "Payouts are made only when you ask.")
    else:
        messages.success(
            request, f"Payouts: {schedule.get_frequency_display().lower()}, from {format_cny(schedule.threshold_fen)}."
        )
    return redirect("payments:earnings")


@creator_required
@rate_limit("checkout")
@require_POST
def payout_request_view(request: HttpRequest) -> HttpResponse:
    form = PayoutRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["amount"][0])
        return redirect("payments:earnings")
    try:
        payout = payout_request(creator=request.user, requested_by=request.user, amount_fen=form.cleaned_data["amount"])
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("payments:earnings")
    messages.success(request, f"Payout {payout.payout_no} of {format_cny(payout.amount_fen)} requested.")
    return redirect("payments:earnings_payout", payout_no=payout.payout_no)


@creator_required
@require_GET
def payout_detail(request: HttpRequest, payout_no: str) -> HttpResponse:
    payout = selectors.payout_get_for_creator(creator=request.user, payout_no=payout_no)
    context = {"payout": payout, "payee": mask(payout.payee_account)}
    return render(request, "payments/earnings/payout_detail.html", context)


@creator_required
@require_POST
def payout_cancel_view(request: HttpRequest, payout_no: str) -> HttpResponse:
    payout = selectors.payout_get_for_creator(creator=request.user, payout_no=payout_no)
    try:
        payout_cancel(payout=payout, creator=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Payout {payout.payout_no} cancelled; {format_cny(payout.amount_fen)} is available.")
    return redirect("payments:earnings_payout", payout_no=payout.payout_no)


@login_required
@require_GET
def payout_statement(request: HttpRequest, payout_no: str) -> HttpResponse:
    """The sales and refunds a payout settles; its creator's, or any for staff who may view payouts."""
    statement = payout_statement_get(payout_no=payout_no, user=request.user)
    return render(request, "payments/earnings/payout_statement.html", {"statement": statement})


@login_required
@require_GET
def payout_statement_pdf_view(request: HttpRequest, payout_no: str) -> HttpResponse:
    statement = payout_statement_get(payout_no=payout_no, user=request.user)
    response = HttpResponse(payout_statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.payout.payout_no}.pdf"'
    return response


class _Echo:
    """A file-like object whose write returns the line, so csv.writer feeds a streaming response."""

    def write(self, value: str) -> str:
        return value


def _csv_response(filename: str, header: list[str], rows: Iterable[list[str]]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a byte-order mark, so spreadsheet programs read the Chinese titles as UTF-8
        yield writer.writerow(header)
        for row in rows:
            # Titles and references are typed by people; none may become a formula in a spreadsheet.
            yield writer.writerow([csv_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _sale_status(sale: LedgerEntry) -> str:
    if sale.refunded_fen and sale.refunded_fen == sale.gross_fen:
        return "refunded"
    if sale.settled_at is not None:
        return f"available since {timezone.localtime(sale.settled_at):%Y-%m-%d}"
    return f"on hold until {timezone.localtime(sale.settles_at):%Y-%m-%d}"


@creator_required
@require_GET
def sales_csv(request: HttpRequest) -> StreamingHttpResponse:
    sales = selectors.sale_list_for_creator(creator=request.user).iterator(chunk_size=2000)
    header = [
        "time",
        "order_no",
        "course",
        "gross_yuan",
        "fee_yuan",
        "net_yuan",
        "refunded_yuan",
        "refunded_from_you_yuan",
        "status",
    ]
    rows = (
        [
            f"{timezone.localtime(sale.occurred_at):%Y-%m-%d %H:%M:%S}",
            sale.payment.order.order_no,
            sale.payment.order.course.title,
            fen_to_yuan(sale.gross_fen),
            fen_to_yuan(sale.fee_fen),
            fen_to_yuan(sale.net_fen),
            fen_to_yuan(sale.refunded_fen),
            fen_to_yuan(sale.refunded_net_fen),
            _sale_status(sale),
        ]
        for sale in sales
    )
    return _csv_response(f"sales-{timezone.localdate():%Y%m%d}.csv", header, rows)


def _payout_reference(payout: Payout) -> str:
    return payout.transfer_no or payout.bank_reference


@creator_required
@require_GET
def payouts_csv(request: HttpRequest) -> StreamingHttpResponse:
    payouts = selectors.payout_list_for_creator(creator=request.user)
    header = ["payout_no", "requested", "amount_yuan", "status", "method", "paid", "reference", "sales_paid"]
    rows = (
        [
            payout.payout_no,
            f"{timezone.localtime(payout.created_at):%Y-%m-%d %H:%M:%S}",
            fen_to_yuan(payout.amount_fen),
            payout.status,
            payout.method,
            f"{timezone.localtime(payout.paid_at):%Y-%m-%d %H:%M:%S}" if payout.paid_at else "",
            _payout_reference(payout),
            "; ".join(
                f"{allocation.sale.payment.order.order_no} {fen_to_yuan(allocation.amount_fen)}"
                for allocation in payout.allocations.all()
            ),
        ]
        for payout in payouts
    )
    return _csv_response(f"payouts-{timezone.localdate():%Y%m%d}.csv", header, rows)
