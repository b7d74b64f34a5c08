"""Admin for orders, payments, refunds, raw notifications and the outbox."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from knowpay.api import ServiceError
from knowpay.crypto import mask
from knowpay.history import HistoryAdmin
from knowpay.money import MoneyFormatError, format_cny, yuan_to_fen
from payments.gateways.base import GatewayError
from payments.models import (
    BlockedSubject,
    GatewayNotification,
    Order,
    OutboxMessage,
    Payment,
    ReconciliationItem,
    ReconciliationRun,
    Refund,
    RiskDecision,
    SimulatedNotification,
    SimulatedRefund,
    SimulatedTrade,
    SimulatedTransfer,
)
from payments.services.notifications import notification_process
from payments.services.reconciliation import reconciliation_run
from payments.services.refunds import refund_approve, refund_issue, refund_reject, refund_send
from payments.services.risk import blocked_subject_add, order_review_release
from payments.services.sync import payment_sync


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records change only through services; the admin shows them and offers actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside their parent's page, never edited there; `fields` are all read-only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

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
    amount = forms.CharField(label="Amount (yuan)", help_text="e.g. 12.90")
    reason = forms.CharField(max_length=300)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.fields["amount"].initial = format_cny(order.refundable_fen).lstrip("¥").replace(",", "")

    def clean_amount(self) -> int:
        try:
            return yuan_to_fen(self.cleaned_data["amount"].strip())
        except MoneyFormatError:
            raise forms.ValidationError("Enter an amount in yuan with at most two decimals.") from None


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
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
    list_filter = ["status", "held_for_review", "paid_after_close", "created_at"]
    actions = ["release_review"]
    search_fields = ["order_no", "learner__username", "learner__email", "course__title", "payments__out_trade_no"]
    list_select_related = ["learner", "course"]
    inlines = [PaymentInline, RefundInline]
    amount = _money("amount_fen", "Amount")
    refunded = _money("refunded_fen", "Refunded")

    def get_urls(self):
        urls = [
            path("<int:order_id>/refund/", self.admin_site.admin_view(self.refund_view), name="payments_order_refund")
        ]
        return urls + super().get_urls()

    def refund_view(self, request, order_id: int):
        """Staff refund part or all of a paid order; sent to the gateway at once."""
        if not request.user.has_perm("payments.add_refund"):
            messages.error(request, "You may not issue refunds.")
            return redirect("admin:payments_order_change", order_id)
        order = get_object_or_404(Order, pk=order_id)
        form = StaffRefundForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
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
        context = {**self.admin_site.each_context(request), "order": order, "form": form, "title": f"Refund {order}"}
        return TemplateResponse(request, "admin/payments/order_refund.html", context)

    def refund_link(self, obj):
        if obj.status not in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
            return "-"
        return format_html('<a href="{}">Refund…</a>', reverse("admin:payments_order_refund", args=[obj.pk]))

    refund_link.short_description = "Refund"
    readonly_fields = ["refund_link"]

    def has_review_permission(self, request):
        return request.user.has_perm("payments.change_order")

    @admin.action(description="Release from review (the learner may pay)", permissions=["review"])
    def release_review(self, request, queryset):
        _run_each(self, request, queryset, lambda o: order_review_release(order=o, staff=request.user), "Released")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["out_trade_no", "order", "channel", "method", "amount", "status", "is_duplicate", "created_at"]
    # The payer reference is encrypted at rest and shown masked.
    exclude = ["payer_ref"]
    readonly_fields = ["payer"]
    list_filter = ["channel", "status", "is_duplicate", "created_at"]
    search_fields = ["out_trade_no", "gateway_trade_no", "order__order_no"]
    list_select_related = ["order"]
    actions = ["query_gateway"]
    amount = _money("amount_fen", "Amount")

    @admin.display(description="Payer")
    def payer(self, payment):
        return mask(payment.payer_ref) or "-"

    @admin.action(description="Ask the gateway now and apply its answer")
    def query_gateway(self, request, queryset):
        _run_each(self, request, queryset, lambda p: payment_sync(payment=p), "Queried the gateway")


class RefundDecisionFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("review", "Awaiting review"), ("in_flight", "At the gateway"), ("failed", "Failed")]

    def queryset(self, request, queryset):
        status = {
            "review": Refund.Status.REQUESTED,
            "in_flight": Refund.Status.PROCESSING,
            "failed": Refund.Status.FAILED,
        }
        return queryset.filter(status=status[self.value()]) if self.value() else queryset


@admin.register(Refund)
class RefundAdmin(HistoryAdmin, ReadOnlyAdmin):
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
    list_filter = [RefundDecisionFilter, "status", "kind", "risk_flagged", "created_at"]
    search_fields = ["refund_no", "order__order_no", "payment__out_trade_no", "gateway_refund_no"]
    list_select_related = ["order", "requested_by", "decided_by"]
    actions = ["approve", "reject", "send_again"]
    amount = _money("amount_fen", "Amount")

    @admin.action(description="Approve and send to the gateway", permissions=["add"])
    def approve(self, request, queryset):
        _run_each(self, request, queryset, lambda r: refund_approve(refund=r, staff=request.user), "Approved")

    @admin.action(description="Reject", permissions=["add"])
    def reject(self, request, queryset):
        note = "Rejected by staff review."
        _run_each(self, request, queryset, lambda r: refund_reject(refund=r, staff=request.user, note=note), "Rejected")

    @admin.action(description="Send again / ask the gateway (processing refunds)", permissions=["add"])
    def send_again(self, request, queryset):
        _run_each(self, request, queryset, lambda r: refund_send(refund_id=r.pk), "Sent again")

    def has_add_permission(self, request, obj=None):
        # Refunds are created through the order's refund page; "add" gates the actions.
        return request.user.has_perm("payments.add_refund") and obj is not None


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

    @admin.action(description="Process again (e.g. after a failure was fixed)")
    def reprocess(self, request, queryset):
        _run_each(self, request, queryset, lambda n: notification_process(notification=n), "Processed again")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["dedupe_key", "topic", "created_at", "sent_at", "attempts", "next_attempt_at"]
    list_filter = ["topic", "sent_at"]
    search_fields = ["dedupe_key"]
    # The payload may hold a link that acts for its recipient (password reset): staff see who and what.
    exclude = ["payload"]
    readonly_fields = ["recipient", "subject"]

    @admin.display(description="To")
    def recipient(self, message):
        return message.payload.get("to", "")

    @admin.display(description="Subject")
    def subject(self, message):
        return message.payload.get("subject", "")


if settings.PAYMENTS_SANDBOX:
    for model in (SimulatedTrade, SimulatedRefund, SimulatedTransfer, SimulatedNotification):
        admin.site.register(model, ReadOnlyAdmin)


class ReconciliationItemInline(ReadOnlyInline):
    model = ReconciliationItem
    fields = ["kind", "entry_kind", "out_trade_no", "out_refund_no", "bill_amount_fen", "our_amount_fen", "note"]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ["day", "channel", "status", "bill_in", "bill_out", "ours_in", "ours_out", "finished_at"]
    list_filter = ["status", "channel", "day"]
    inlines = [ReconciliationItemInline]
    actions = ["run_again"]
    bill_in = _money("bill_payments_fen", "Bill: paid in")
    bill_out = _money("bill_refunds_fen", "Bill: refunded")
    ours_in = _money("our_payments_fen", "Ours: paid in")
    ours_out = _money("our_refunds_fen", "Ours: refunded")

    @admin.action(description="Run again (fetch the bill, repair, compare)")
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
