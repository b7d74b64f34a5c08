"""Admin for orders, payments, refunds, raw notifications and the outbox."""

from __future__ import annotations

import functools
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from rangefilter.filters import DateRangeFilter

from knowpay.api import ServiceError
from knowpay.crypto import mask
from knowpay.forms import YuanAmountField
from knowpay.history import HistoryAdmin
from knowpay.money import fen_to_yuan, format_cny
from payments.admin.exports import (
    FinanceExportMixin,
    OrderExport,
    PaymentExport,
    ReconciliationItemExport,
    RefundExport,
)
from payments.gateways.base import GatewayError
from payments.models import (
    BlockedSubject,
    GatewayCall,
    GatewayNotification,
    Order,
    OutboxMessage,
    Payment,
    PaymentAnomaly,
    ReconciliationItem,
    ReconciliationRun,
    Refund,
    RiskDecision,
    SimulatedNotification,
    SimulatedRefund,
    SimulatedTrade,
    SimulatedTransfer,
    SweepFailure,
)
from payments.selectors.orders import order_money_trail
from payments.services.notifications import notification_process
from payments.services.reconciliation import reconciliation_run
from payments.services.refunds import refund_approve, refund_issue, refund_reject, refund_send
from payments.services.risk import blocked_subject_add, order_review_release
from payments.services.sync import payment_sync


@functools.cache
def yuan_field(model: type[models.Model], name: str):
    """A read-only field showing the amount in fen `name` of `model` as yuan (¥1,234.56).

    Cached, so every call for one field returns the same callable: the admin matches a page's
    fields against its read-only fields by identity.
    """
    label = model._meta.get_field(name).verbose_name.removesuffix(" fen") or name

    def show(obj):
        value = getattr(obj, name)
        return "-" if value is None else format_cny(value)

    show.short_description = label[:1].upper() + label[1:]
    show.admin_order_field = name
    return show


def _yuan_fields(model: type[models.Model], fields) -> list:
    return [yuan_field(model, f) if isinstance(f, str) and f.endswith("_fen") else f for f in fields]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records change only through services; the admin shows them and offers actions.

    Every page shows amounts in yuan: each `*_fen` field is displayed through `yuan_field`. Fields
    in `exclude` (payment data encrypted at rest) are never shown; a masked display stands for them.
    """

    def get_fields(self, request, obj=None):
        if self.fields:
            return _yuan_fields(self.model, self.fields)
        excluded = set(self.exclude or ())
        names = [
            f.name for f in self.model._meta.fields if f.editable and not f.auto_created and f.name not in excluded
        ]
        return _yuan_fields(self.model, [*names, *(f for f in self.readonly_fields if f not in names)])

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside their parent's page, never edited there; `fields` are all read-only, in yuan."""

    extra = 0
    can_delete = False

    def get_fields(self, request, obj=None):
        return _yuan_fields(self.model, self.fields)

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Where gateways name the payer: form fields (Alipay, Sandbox Pay) and XML elements (WeChat Pay).
_PAYER_FIELD = re.compile(
    r"(?P<key>\b(?:buyer_id|buyer_user_id|buyer_open_id|buyer_logon_id|openid|sub_openid)=)(?P<value>[^&\s]+)"
)
_PAYER_ELEMENT = re.compile(r"(?P<key><(?:openid|sub_openid)>(?:<!\[CDATA\[)?)(?P<value>[^<\]]+)")


def payer_fields_mask(text: str) -> str:
    """A raw notification as staff may see it: the payer's identifiers masked, the rest as received."""

    def masked(match: re.Match) -> str:
        return match.group("key") + mask(match.group("value"))

    return _PAYER_ELEMENT.sub(masked, _PAYER_FIELD.sub(masked, text))


def _money(field: str, label: str):
    """A list column showing an amount in fen as yuan; assigned on a ModelAdmin, so it is a method."""

    def show(modeladmin, obj):
        return format_cny(getattr(obj, field))

    show.short_description = label
    show.admin_order_field = field
    return show


class QueueFilter(admin.SimpleListFilter):
    """A named queue of rows by status; a value it does not know shows everything, never an error."""

    title = "queue"
    parameter_name = "queue"
    queues: dict[str, tuple[str, str]] = {}  # value -> (label, status)

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _status) in self.queues.items()]

    def queryset(self, request, queryset):
        queue = self.queues.get(self.value() or "")
        return queryset.filter(status=queue[1]) if queue else queryset


def _money_or_dash(field: str, label: str):
    """As _money, for an amount that may be missing (a difference known on one side only)."""

    def show(modeladmin, obj):
        value = getattr(obj, field)
        return "-" if value is None else format_cny(value)

    show.short_description = label
    show.admin_order_field = field
    return show


def _run_each(modeladmin, request, queryset, service, done: str) -> None:
    """Apply a service to each selected row; report every refusal by name, log every success."""
    succeeded = 0
    for obj in queryset:
        try:
            service(obj)
        except ServiceError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        except GatewayError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.user_message} ({exc.code})", messages.ERROR)
        else:
            succeeded += 1
            modeladmin.log_change(request, obj, done)
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded}.", messages.SUCCESS)


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["out_trade_no", "channel", "method", "status", "is_duplicate", "amount_fen", "refunded_fen", "created_at"]


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["refund_no", "kind", "status", "risk_flagged", "amount_fen", "requested_by", "decided_by", "decided_at"]


class StaffRefundForm(forms.Form):
    amount = YuanAmountField(label="Amount (yuan)", help_text="e.g. 12.90")
    reason = forms.CharField(max_length=Refund._meta.get_field("reason").max_length)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.fields["amount"].initial = fen_to_yuan(order.refundable_fen)


class RefundDecisionForm(forms.Form):
    note = forms.CharField(max_length=Refund._meta.get_field("decision_note").max_length, required=False)


def _refund_decide(request, refund: Refund, decision: str, note: str) -> Refund:
    """Apply a staff decision on a requested refund; the services refuse one already decided."""
    if decision == "approve":
        return refund_approve(refund=refund, staff=request.user, note=note)
    return refund_reject(refund=refund, staff=request.user, note=note or "Rejected by staff review.")


@admin.register(Order)
class OrderAdmin(FinanceExportMixin, ReadOnlyAdmin):
    resource_classes = [OrderExport]
    list_display = [
        "order_no",
        "learner",
        "course",
        "amount",
        "status",
        "held_for_review",
        "refunded",
        "created_at",
        "paid_at",
    ]
    list_filter = [
        "status",
        "held_for_review",
        "paid_after_close",
        ("created_at", DateRangeFilter),
        ("paid_at", DateRangeFilter),
    ]
    actions = ["release_review"]
    search_fields = ["order_no", "learner__username", "learner__email", "course__title", "payments__out_trade_no"]
    list_select_related = ["learner", "course"]
    inlines = [PaymentInline, RefundInline]
    readonly_fields = ["refund_link", "money_trail"]
    amount = _money("amount_fen", "Amount")
    refunded = _money("refunded_fen", "Refunded")

    def get_urls(self):
        urls = [
            path("<int:order_id>/refund/", self.admin_site.admin_view(self.refund_view), name="payments_order_refund")
        ]
        return urls + super().get_urls()

    def refund_view(self, request, order_id: int):
        """Staff refund part or all of a paid order (sent to the gateway at once), or decide the
        learner's request that is waiting for review: one refund is in flight at a time."""
        if not request.user.has_perm("payments.issue_refund"):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("course"), pk=order_id)
        in_flight = order.refunds.filter(status__in=[Refund.Status.REQUESTED, Refund.Status.PROCESSING]).first()
        form = StaffRefundForm(request.POST or None, order=order)
        if request.method == "POST" and in_flight is None and form.is_valid():
            try:
                refund = refund_issue(
                    order=order,
                    staff=request.user,
                    amount_fen=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_change(request, order, f"Refund {refund.refund_no} of {format_cny(refund.amount_fen)} issued")
                messages.success(request, f"Refund {refund.refund_no} issued ({refund.get_status_display().lower()}).")
                return redirect("admin:payments_order_change", order_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "order": order,
            "form": form,
            "in_flight": in_flight,
            "may_decide": request.user.has_perm("payments.decide_refund"),
            "title": f"Refund {order}",
        }
        return TemplateResponse(request, "admin/payments/order_refund.html", context)

    @admin.display(description="Refund")
    def refund_link(self, obj):
        if obj.status not in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
            return "-"
        return format_html('<a href="{}">Refund…</a>', reverse("admin:payments_order_refund", args=[obj.pk]))

    @admin.display(description="Money trail")
    def money_trail(self, obj):
        """Attempts, gateway calls, raw notifications, refunds and ledger entries, in time order."""
        return render_to_string("admin/payments/order_money_trail.html", {"events": order_money_trail(order=obj)})

    def has_review_permission(self, request):
        return request.user.has_perm("payments.change_order")

    @admin.action(description="Release from review (the learner may pay)", permissions=["review"])
    def release_review(self, request, queryset):
        _run_each(self, request, queryset, lambda o: order_review_release(order=o, staff=request.user), "Released")


class PaymentAnomalyInline(ReadOnlyInline):
    model = PaymentAnomaly
    fields = ["kind", "gateway_trade_no", "recorded_trade_no", "amount_fen", "notification", "detected_at"]


class HasAnomaliesFilter(admin.SimpleListFilter):
    title = "anomalies"
    parameter_name = "has_anomalies"

    def lookups(self, request, model_admin):
        return [("yes", "With anomalies"), ("no", "Without")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(anomaly_count__gt=0)
        if self.value() == "no":
            return queryset.filter(anomaly_count=0)
        return queryset


@admin.register(Payment)
class PaymentAdmin(FinanceExportMixin, ReadOnlyAdmin):
    resource_classes = [PaymentExport]
    list_display = [
        "out_trade_no",
        "order",
        "channel",
        "method",
        "amount",
        "status",
        "is_duplicate",
        "anomalies",
        "created_at",
    ]
    # The payer reference is encrypted at rest and shown masked.
    exclude = ["payer_ref"]
    readonly_fields = ["payer"]
    list_filter = [HasAnomaliesFilter, "channel", "status", "is_duplicate", ("created_at", DateRangeFilter)]
    search_fields = ["out_trade_no", "gateway_trade_no", "order__order_no"]
    list_select_related = ["order"]
    inlines = [PaymentAnomalyInline]
    actions = ["query_gateway"]
    amount = _money("amount_fen", "Amount")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(anomaly_count=Count("anomalies"))

    @admin.display(description="Anomalies", ordering="anomaly_count")
    def anomalies(self, obj):
        return obj.anomaly_count

    @admin.display(description="Payer")
    def payer(self, payment):
        return mask(payment.payer_ref) or "-"

    def has_sync_permission(self, request):
        return request.user.has_perm("payments.sync_payment")

    @admin.action(description="Ask the gateway now and apply its answer", permissions=["sync"])
    def query_gateway(self, request, queryset):
        _run_each(self, request, queryset, lambda p: payment_sync(payment=p), "Queried the gateway")


class RefundDecisionFilter(QueueFilter):
    queues = {
        "review": ("Awaiting review", Refund.Status.REQUESTED),
        "in_flight": ("At the gateway", Refund.Status.PROCESSING),
        "failed": ("Failed", Refund.Status.FAILED),
    }


@admin.register(Refund)
class RefundAdmin(FinanceExportMixin, HistoryAdmin, ReadOnlyAdmin):
    resource_classes = [RefundExport]
    list_display = [
        "refund_no",
        "order",
        "kind",
        "amount",
        "status",
        "risk_flagged",
        "requested_by",
        "decided_by",
        "decided_at",
        "created_at",
    ]
    list_filter = [RefundDecisionFilter, "status", "kind", "risk_flagged", ("created_at", DateRangeFilter)]
    search_fields = ["refund_no", "order__order_no", "payment__out_trade_no", "gateway_refund_no"]
    list_select_related = ["order", "requested_by", "decided_by"]
    readonly_fields = ["decide_link"]
    actions = ["approve", "reject", "send_again"]
    amount = _money("amount_fen", "Amount")

    def has_decide_permission(self, request):
        return request.user.has_perm("payments.decide_refund")

    @admin.action(description="Approve and send to the gateway", permissions=["decide"])
    def approve(self, request, queryset):
        _run_each(self, request, queryset, lambda r: _refund_decide(request, r, "approve", ""), "Approved")

    @admin.action(description="Reject", permissions=["decide"])
    def reject(self, request, queryset):
        _run_each(self, request, queryset, lambda r: _refund_decide(request, r, "reject", ""), "Rejected")

    @admin.action(description="Send again / ask the gateway (processing refunds)", permissions=["decide"])
    def send_again(self, request, queryset):
        _run_each(self, request, queryset, lambda r: refund_send(refund_id=r.pk), "Sent again")

    @admin.display(description="Decision")
    def decide_link(self, refund):
        if refund.status != Refund.Status.REQUESTED:
            return "-"
        url = reverse("admin:payments_refund_decide", args=[refund.pk])
        return format_html('<a href="{}">Approve or reject…</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view(self.decide_view)
        return [path("<int:refund_id>/decide/", view, name="payments_refund_decide"), *super().get_urls()]

    def decide_view(self, request, refund_id: int):
        """One requested refund: its order, the learner's reason, and the two decisions with a note."""
        if not self.has_decide_permission(request):
            raise PermissionDenied
        refund = get_object_or_404(Refund.objects.select_related("order__course", "requested_by"), pk=refund_id)
        form = RefundDecisionForm(request.POST or None)
        decision = request.POST.get("decision")
        if request.method == "POST" and decision in ("approve", "reject") and form.is_valid():
            try:
                _refund_decide(request, refund, decision, form.cleaned_data["note"])
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                done = "Approved" if decision == "approve" else "Rejected"
                self.log_change(request, refund, done)
                messages.success(request, f"Refund {refund.refund_no}: {done.lower()}.")
                return redirect("admin:payments_refund_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "refund": refund,
            "form": form,
            "title": f"Decide refund {refund.refund_no}",
        }
        return TemplateResponse(request, "admin/payments/refund_decide.html", context)


@admin.register(GatewayNotification)
class GatewayNotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "channel",
        "kind",
        "outcome",
        "event_type",
        "out_trade_no",
        "received_at",
        "times_received",
        "last_received_at",
        "remote_addr",
    ]
    list_filter = ["channel", "kind", "outcome", "received_at"]
    search_fields = ["out_trade_no", "body_sha256", "detail"]
    readonly_fields = ["raw_body"]
    actions = ["reprocess"]

    @admin.display(description="Body as received (payer masked)")
    def raw_body(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", payer_fields_mask(obj.body_text))

    def has_reprocess_permission(self, request):
        return request.user.has_perm("payments.reprocess_gatewaynotification")

    @admin.action(description="Process again (e.g. after a failure was fixed)", permissions=["reprocess"])
    def reprocess(self, request, queryset):
        _run_each(self, request, queryset, lambda n: notification_process(notification=n), "Processed again")


@admin.register(GatewayCall)
class GatewayCallAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "channel",
        "operation",
        "out_trade_no",
        "out_refund_no",
        "payout_no",
        "bill_day",
        "outcome",
        "code",
        "duration_ms",
    ]
    list_filter = ["channel", "operation", "outcome", "started_at"]
    search_fields = ["out_trade_no", "out_refund_no", "payout_no", "code"]
    date_hierarchy = "started_at"


@admin.register(PaymentAnomaly)
class PaymentAnomalyAdmin(ReadOnlyAdmin):
    list_display = ["detected_at", "payment", "kind", "gateway_trade_no", "recorded_trade_no", "amount", "notification"]
    list_filter = ["kind", "payment__channel", "detected_at"]
    search_fields = ["payment__out_trade_no", "gateway_trade_no", "recorded_trade_no", "payment__order__order_no"]
    list_select_related = ["payment", "notification"]
    amount = _money("amount_fen", "Amount reported")


class OutboxFailingFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("failing", "Failing (unsent, tried before)"), ("unsent", "Unsent"), ("sent", "Sent")]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(sent_at__isnull=True, attempts__gt=0)
        if self.value() == "unsent":
            return queryset.filter(sent_at__isnull=True)
        if self.value() == "sent":
            return queryset.filter(sent_at__isnull=False)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["dedupe_key", "topic", "created_at", "sent_at", "attempts", "next_attempt_at", "last_error"]
    list_filter = [OutboxFailingFilter, "topic", "sent_at"]
    search_fields = ["dedupe_key", "last_error"]
    # The payload may hold a link that acts for its recipient (password reset): staff see who and what.
    exclude = ["payload"]
    readonly_fields = ["recipient", "subject"]

    @admin.display(description="To")
    def recipient(self, message):
        return message.payload.get("to", "")

    @admin.display(description="Subject")
    def subject(self, message):
        return message.payload.get("subject", "")


@admin.register(SweepFailure)
class SweepFailureAdmin(ReadOnlyAdmin):
    """Rows a periodic sweep keeps failing on; each is retried with backoff and gone once it succeeds."""

    list_display = ["sweep", "row", "attempts", "first_failed_at", "last_failed_at", "next_attempt_at", "error"]
    list_filter = ["sweep", "model_label"]
    search_fields = ["=object_id", "last_error"]
    readonly_fields = ["row", "traceback"]
    exclude = ["last_error"]

    @admin.display(description="Row")
    def row(self, obj):
        app_label, model_name = obj.model_label.split(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[obj.object_id])
        except NoReverseMatch:
            return f"{obj.model_label} #{obj.object_id}"
        return format_html('<a href="{}">{} #{}</a>', url, obj.model_label, obj.object_id)

    @admin.display(description="Last error")
    def error(self, obj):
        return obj.last_error.strip().splitlines()[-1][:200] if obj.last_error.strip() else ""

    @admin.display(description="Last error (traceback)")
    def traceback(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", obj.last_error)


if settings.PAYMENTS_SANDBOX:
    for model in (SimulatedTrade, SimulatedRefund, SimulatedTransfer, SimulatedNotification):
        admin.site.register(model, ReadOnlyAdmin)


class ReconciliationItemInline(ReadOnlyInline):
    model = ReconciliationItem
    fields = [
        "kind",
        "entry_kind",
        "out_trade_no",
        "out_refund_no",
        "bill_amount_fen",
        "our_amount_fen",
        "bill_fee_fen",
        "expected_fee_fen",
        "note",
    ]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = [
        "day",
        "channel",
        "status",
        "bill_in",
        "bill_out",
        "bill_fees",
        "ours_in",
        "ours_out",
        "ledger_in",
        "ledger_out",
        "ledger_fees",
        "finished_at",
    ]
    list_filter = ["status", "channel", ("day", DateRangeFilter)]
    inlines = [ReconciliationItemInline]
    readonly_fields = ["three_way_differences"]
    bill_fees = _money("bill_fees_fen", "Bill: gateway fees")
    ledger_in = _money("ledger_payments_fen", "Ledger: paid in")
    ledger_out = _money("ledger_refunds_fen", "Ledger: refunded")
    ledger_fees = _money("ledger_fees_fen", "Ledger: gateway fees")

    @admin.display(description="Three-way differences (bill, ours, ledger)")
    def three_way_differences(self, obj):
        return format_html_join("", "<div>{}</div>", ((line,) for line in obj.differences())) or "None"

    actions = ["run_again"]
    bill_in = _money("bill_payments_fen", "Bill: paid in")
    bill_out = _money("bill_refunds_fen", "Bill: refunded")
    ours_in = _money("our_payments_fen", "Ours: paid in")
    ours_out = _money("our_refunds_fen", "Ours: refunded")

    def has_run_permission(self, request):
        return request.user.has_perm("payments.run_reconciliation")

    @admin.action(description="Run again (fetch the bill, repair, compare)", permissions=["run"])
    def run_again(self, request, queryset):
        _run_each(
            self, request, queryset, lambda r: reconciliation_run(channel=r.channel, day=r.day), "Reconciled again"
        )


@admin.register(RiskDecision)
class RiskDecisionAdmin(ReadOnlyAdmin):
    """What each risk rule stopped or held, and why (payments.services.risk)."""

    list_display = ["created_at", "rule", "decision", "action", "subject", "reason", "order", "refund", "payout"]
    list_filter = ["rule", "decision", "action", "created_at"]
    search_fields = ["subject", "reason", "order__order_no", "refund__refund_no", "payout__payout_no"]
    list_select_related = ["order", "refund", "payout"]


class BlockedSubjectForm(forms.ModelForm):
    class Meta:
        model = BlockedSubject
        fields = ["kind", "value", "reason"]
        help_texts = {"value": "A username, an IP address, or a payer reference (Alipay buyer id, WeChat openid)."}


@admin.register(BlockedSubject)
class BlockedSubjectAdmin(admin.ModelAdmin):
    """The blocklist: staff add entries and switch them off; the value is encrypted and shown masked."""

    form = BlockedSubjectForm
    list_display = ["kind", "masked_value", "reason", "is_active", "created_by", "created_at"]
    list_filter = ["kind", "is_active", "created_at"]
    search_fields = ["reason"]
    actions = ["deactivate"]

    @admin.display(description="Value")
    def masked_value(self, obj):
        return mask(obj.value) if obj.kind == BlockedSubject.Kind.PAYER else obj.value

    def get_fields(self, request, obj=None):
        return ["kind", "value", "reason"] if obj is None else ["kind", "masked_value", "reason", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["kind", "masked_value"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["reason", "is_active"])
            return
        created = blocked_subject_add(kind=obj.kind, value=obj.value, reason=obj.reason, staff=request.user)
        obj.pk, obj.value_digest = created.pk, created.value_digest

    def has_delete_permission(self, request, obj=None):
        return False  # switch an entry off instead, so what was blocked stays on record

    @admin.action(description="Switch off (no longer blocked)")
    def deactivate(self, request, queryset):
        updated = queryset.update(is_active=False)
        self.message_user(request, f"Switched off: {updated}.", messages.SUCCESS)


@admin.register(ReconciliationItem)
class ReconciliationItemAdmin(FinanceExportMixin, ReadOnlyAdmin):
    """Every difference of every run in one list: filtered by kind, channel and day, and exported."""

    resource_classes = [ReconciliationItemExport]
    list_display = ["run", "kind", "entry_kind", "out_trade_no", "out_refund_no", "bill_amount", "our_amount", "note"]
    list_filter = ["kind", "run__channel", ("run__day", DateRangeFilter)]
    search_fields = ["out_trade_no", "out_refund_no", "note"]
    list_select_related = ["run"]
    bill_amount = _money_or_dash("bill_amount_fen", "Bill amount")
    our_amount = _money_or_dash("our_amount_fen", "Our amount")
