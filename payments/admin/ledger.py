"""Admin for the ledger (read-only entries, lines, balances per account) and the payout queue.

Payout decisions are actions that call the services; each one records who and when on the payout
(decided_by, decided_at) and in the admin log.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from rangefilter.filters import DateRangeFilter

from knowpay.api import ServiceError
from knowpay.crypto import mask
from knowpay.history import HistoryAdmin
from knowpay.money import format_cny
from payments.admin.core import QueueFilter, ReadOnlyAdmin, ReadOnlyInline, _run_each
from payments.admin.exports import FinanceExportMixin, LedgerLineExport, PayoutExport
from payments.models import LedgerAccount, LedgerEntry, LedgerLine, Payout, PayoutAllocation
from payments.selectors.ledger import ledger_account_list_with_balances
from payments.services.payouts import payout_approve, payout_mark_paid_by_bank, payout_reject, payout_send


class DebitCreditColumns:
    @admin.display(description="Debit")
    def debit(self, line):
        return format_cny(line.amount_fen) if line.amount_fen > 0 else ""

    @admin.display(description="Credit")
    def credit(self, line):
        return format_cny(-line.amount_fen) if line.amount_fen < 0 else ""


class LedgerLineInline(DebitCreditColumns, ReadOnlyInline):
    model = LedgerLine
    fields = ["account", "debit", "credit"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "amount", "creator", "occurred_at", "created_at", "description"]
    list_filter = ["kind", "occurred_at"]
    search_fields = ["reference", "description", "creator__username"]
    date_hierarchy = "occurred_at"
    list_select_related = ["creator"]
    inlines = [LedgerLineInline]

    def get_queryset(self, request):
        # What moved: the debits of the entry (its credits are the same amount).
        debits = Coalesce(Sum("lines__amount_fen", filter=Q(lines__amount_fen__gt=0)), 0)
        return super().get_queryset(request).annotate(debits_fen=debits)

    @admin.display(description="Amount", ordering="debits_fen")
    def amount(self, entry):
        return format_cny(entry.debits_fen)


@admin.register(LedgerLine)
class LedgerLineAdmin(FinanceExportMixin, DebitCreditColumns, ReadOnlyAdmin):
    resource_classes = [LedgerLineExport]
    list_display = ["id", "entry", "account", "debit", "credit"]
    list_filter = ["account__kind", "entry__kind", ("entry__occurred_at", DateRangeFilter)]
    search_fields = ["entry__reference", "account__creator__username", "account__channel"]
    list_select_related = ["entry", "account"]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "creator", "channel", "balance", "cached_balance", "lines_link"]
    list_filter = ["kind", "channel"]
    search_fields = ["creator__username", "creator__email", "channel"]

    def get_queryset(self, request):
        return ledger_account_list_with_balances()

    @admin.display(description="Balance (from lines)", ordering="lines_total_fen")
    def balance(self, account):
        return format_cny(account.sign * account.lines_total_fen)

    @admin.display(description="Cached balance")
    def cached_balance(self, account):
        return "" if account.balance_fen is None else format_cny(account.balance_fen)

    @admin.display(description="Lines")
    def lines_link(self, account):
        url = reverse("admin:payments_ledgerline_changelist")
        return format_html('<a href="{}?account__id__exact={}">Lines</a>', url, account.pk)


class PayoutQueueFilter(QueueFilter):
    queues = {
        "review": ("Awaiting decision", Payout.Status.REQUESTED),
        "sending": ("Being transferred", Payout.Status.SENDING),
        "failed": ("Failed", Payout.Status.FAILED),
    }


class PayoutAllocationInline(ReadOnlyInline):
    model = PayoutAllocation
    verbose_name_plural = "Sales this payout pays (oldest settled first)"
    fields = ["sale", "amount_fen"]


class BankPaymentForm(forms.Form):
    reference = forms.CharField(max_length=100, help_text="The bank's reference of the transfer you made.")
    note = forms.CharField(max_length=300, required=False)


@admin.register(Payout)
class PayoutAdmin(FinanceExportMixin, HistoryAdmin, ReadOnlyAdmin):
    resource_classes = [PayoutExport]
    list_display = [
        "payout_no",
        "creator",
        "amount",
        "status",
        "method",
        "created_at",
        "decided_by",
        "decided_at",
        "paid_at",
        "bank_link",
    ]
    list_filter = [PayoutQueueFilter, "status", "origin", "method", ("created_at", DateRangeFilter)]
    search_fields = ["payout_no", "creator__username", "creator__email", "transfer_no", "bank_reference"]
    list_select_related = ["creator", "decided_by"]
    inlines = [PayoutAllocationInline]
    actions = ["approve", "reject", "send_again"]
    # The payee identity is encrypted at rest and shown masked.
    exclude = ["payee_account", "payee_name"]
    readonly_fields = ["bank_link", "payee"]

    @admin.display(description="Payee")
    def payee(self, payout):
        return f"{mask(payout.payee_account)} ({mask(payout.payee_name, keep=1)})" if payout.payee_account else "-"

    @admin.display(description="Amount", ordering="amount_fen")
    def amount(self, payout):
        return format_cny(payout.amount_fen)

    def has_decide_permission(self, request):
        return request.user.has_perm("payments.decide_payout")

    @admin.action(description="Approve and transfer to the creator's Alipay account", permissions=["decide"])
    def approve(self, request, queryset):
        _run_each(self, request, queryset, lambda p: payout_approve(payout=p, staff=request.user), "Approved")

    @admin.action(description="Reject (the amount becomes available again)", permissions=["decide"])
    def reject(self, request, queryset):
        note = "Rejected by staff review."
        _run_each(self, request, queryset, lambda p: payout_reject(payout=p, staff=request.user, note=note), "Rejected")

    @admin.action(description="Send again / ask the gateway (payouts being transferred)", permissions=["decide"])
    def send_again(self, request, queryset):
        _run_each(self, request, queryset, lambda p: payout_send(payout_id=p.pk), "Sent again")

    @admin.display(description="Bank transfer")
    def bank_link(self, payout):
        if payout.status != Payout.Status.REQUESTED:
            return "-"
        url = reverse("admin:payments_payout_bank", args=[payout.pk])
        return format_html('<a href="{}">Mark paid by bank…</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view(self.bank_view)
        return [path("<int:payout_id>/bank/", view, name="payments_payout_bank"), *super().get_urls()]

    def bank_view(self, request, payout_id: int):
        """Staff paid the creator by bank transfer themselves: record it with the bank's reference."""
        if not self.has_decide_permission(request):
            raise PermissionDenied
        payout = get_object_or_404(Payout.objects.select_related("creator"), pk=payout_id)
        form = BankPaymentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                payout_mark_paid_by_bank(payout=payout, staff=request.user, **form.cleaned_data)
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                reference = form.cleaned_data["reference"]
                self.log_change(request, payout, f"Paid by bank transfer {reference}")
                messages.success(request, f"Payout {payout} recorded as paid by bank transfer {reference}.")
                return redirect("admin:payments_payout_changelist")
        context = {
            **self.admin_site.each_context(request),
            "payout": payout,
            "form": form,
            "title": f"Pay {payout} by bank transfer",
        }
        return TemplateResponse(request, "payments/earnings/admin_payout_bank.html", context)
