"""Finance exports from the admin: each money change list, as filtered, as CSV or XLSX.

Export only: no admin mounts django-import-export's import views, so nothing is written through
them. Exporting a model needs the staff flag and that model's view permission. Text cells that a
spreadsheet would run as a formula (=, +, -, @) are prefixed with an apostrophe; amounts are exact
yuan decimals (12.90), from integer fen, never through float.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_permission_codename
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm

from knowpay.crypto import mask
from knowpay.exports import csv_cell
from knowpay.money import fen_to_yuan
from payments.models import LedgerLine, Order, Payment, Payout, ReconciliationItem, Refund


class YuanWidget(widgets.Widget):
    """Integer fen out as an exact decimal of yuan: a number in XLSX, "12.90" in CSV."""

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else Decimal(fen_to_yuan(value))


def yuan(attribute: str, column_name: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column_name, widget=YuanWidget(), readonly=True)


def text(attribute: str, column_name: str | None = None) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column_name or attribute, readonly=True)


class FinanceResource(resources.ModelResource):
    """Columns of one money model for staff's spreadsheets; text is neutralised against formulas."""

    related: tuple[str, ...] = ()

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related(*self.related) if self.related else queryset

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return csv_cell(value) if isinstance(value, str) else value


class OrderExport(FinanceResource):
    learner = text("learner__username", "learner")
    course = text("course__title", "course")
    creator = text("course__creator__username", "creator")
    amount_yuan = yuan("amount_fen", "amount_yuan")
    refunded_yuan = yuan("refunded_fen", "refunded_yuan")
    related = ("learner", "course__creator")

    class Meta:
        model = Order
        fields = export_order = (
            "order_no",
            "created_at",
            "paid_at",
            "status",
            "learner",
            "course",
            "creator",
            "currency",
            "amount_yuan",
            "refunded_yuan",
            "paid_after_close",
        )


class PaymentExport(FinanceResource):
    order = text("order__order_no", "order_no")
    amount_yuan = yuan("amount_fen", "amount_yuan")
    refunded_yuan = yuan("refunded_fen", "refunded_yuan")
    related = ("order",)

    class Meta:
        model = Payment
        fields = export_order = (
            "out_trade_no",
            "order",
            "channel",
            "method",
            "status",
            "is_duplicate",
            "amount_yuan",
            "refunded_yuan",
            "gateway_trade_no",
            "created_at",
            "succeeded_at",
            "closed_at",
        )


class RefundExport(FinanceResource):
    order = text("order__order_no", "order_no")
    payment = text("payment__out_trade_no", "out_trade_no")
    requested_by = text("requested_by__username", "requested_by")
    decided_by = text("decided_by__username", "decided_by")
    amount_yuan = yuan("amount_fen", "amount_yuan")
    related = ("order", "payment", "requested_by", "decided_by")

    class Meta:
        model = Refund
        fields = export_order = (
            "refund_no",
            "order",
            "payment",
            "kind",
            "status",
            "amount_yuan",
            "reason",
            "requested_by",
            "decided_by",
            "created_at",
            "decided_at",
            "succeeded_at",
            "gateway_refund_no",
            "failure_reason",
        )


class LedgerLineExport(FinanceResource):
    reference = text("entry__reference", "reference")
    entry_kind = text("entry__kind", "entry_kind")
    occurred_at = fields.Field(
        attribute="entry__occurred_at", column_name="occurred_at", widget=widgets.DateTimeWidget(), readonly=True
    )
    posted_at = fields.Field(
        attribute="entry__created_at", column_name="posted_at", widget=widgets.DateTimeWidget(), readonly=True
    )
    account_kind = text("account__kind", "account_kind")
    channel = text("account__channel", "channel")
    creator = text("account__creator__username", "creator")
    debit_yuan = fields.Field(column_name="debit_yuan", readonly=True)
    credit_yuan = fields.Field(column_name="credit_yuan", readonly=True)
    description = text("entry__description", "description")
    related = ("entry", "account__creator")

    class Meta:
        model = LedgerLine
        fields = export_order = (
            "id",
            "reference",
            "entry_kind",
            "occurred_at",
            "posted_at",
            "account_kind",
            "channel",
            "creator",
            "debit_yuan",
            "credit_yuan",
            "description",
        )

    def dehydrate_debit_yuan(self, line):
        return Decimal(fen_to_yuan(line.amount_fen)) if line.amount_fen > 0 else ""

    def dehydrate_credit_yuan(self, line):
        return Decimal(fen_to_yuan(-line.amount_fen)) if line.amount_fen < 0 else ""


class PayoutExport(FinanceResource):
    creator = text("creator__username", "creator")
    decided_by = text("decided_by__username", "decided_by")
    amount_yuan = yuan("amount_fen", "amount_yuan")
    related = ("creator", "decided_by")

    class Meta:
        model = Payout
        fields = export_order = (
            "payout_no",
            "creator",
            "amount_yuan",
            "status",
            "origin",
            "period",
            "method",
            "channel",
            "payee_account",
            "payee_name",
            "transfer_no",
            "bank_reference",
            "created_at",
            "decided_by",
            "decided_at",
            "paid_at",
            "failure_reason",
        )

    # The payee identity is encrypted at rest; an export shows it masked, as the admin does.
    def dehydrate_payee_account(self, payout):
        return mask(payout.payee_account)

    def dehydrate_payee_name(self, payout):
        return mask(payout.payee_name, keep=1)


class ReconciliationItemExport(FinanceResource):
    day = fields.Field(attribute="run__day", column_name="day", widget=widgets.DateWidget())
    channel = text("run__channel", "channel")
    run_status = text("run__status", "run_status")
    bill_amount_yuan = yuan("bill_amount_fen", "bill_amount_yuan")
    our_amount_yuan = yuan("our_amount_fen", "our_amount_yuan")
    bill_fee_yuan = yuan("bill_fee_fen", "bill_fee_yuan")
    expected_fee_yuan = yuan("expected_fee_fen", "expected_fee_yuan")
    related = ("run",)

    class Meta:
        model = ReconciliationItem
        fields = export_order = (
            "day",
            "channel",
            "run_status",
            "kind",
            "entry_kind",
            "out_trade_no",
            "out_refund_no",
            "bill_amount_yuan",
            "our_amount_yuan",
            "bill_fee_yuan",
            "expected_fee_yuan",
            "note",
        )


class FinanceExportMixin(ExportMixin):
    """An Export button on the change list: its rows as filtered, as CSV or XLSX, for staff who may
    view the model. Mixed in before the ModelAdmin class."""

    export_formats = [base_formats.CSV, base_formats.XLSX]
    export_form_class = ExportForm

    def has_export_permission(self, request):
        user = request.user
        codename = get_permission_codename("view", self.opts)
        return user.is_active and user.is_staff and user.has_perm(f"{self.opts.app_label}.{codename}")
