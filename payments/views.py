"""Learner pages: buy, checkout, pay, wait for confirmation, my orders, refunds. Thin: services decide."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from courses.selectors import course_is_enrolled
from knowpay.api import ServiceError
from knowpay.ratelimit import client_ip, rate_limit
from payments import selectors
from payments.devices import device_from_user_agent
from payments.forms import RefundRequestForm
from payments.gateways import channel_display_name, gateway_list
from payments.gateways.base import (
    EVERY_DEVICE,
    Device,
    Gateway,
    GatewayError,
    GatewayRejected,
    PaymentMethod,
    StartKind,
)
from payments.gateways.breakers import circuit_refusing
from payments.models import Order
from payments.receipts import receipt_pdf
from payments.selectors.receipts import receipt_get
from payments.services.checkout import PayerAuthorizationRequired, payment_start
from payments.services.orders import order_cancel, order_create
from payments.services.payers import payer_authorization_state_check, payer_authorize_url, payer_openid_learn
from payments.services.refunds import refund_request
from payments.services.sync import order_return_complete, order_sync


@login_required
@rate_limit("checkout")
@require_POST
def buy(request, slug: str):
    course = selectors.course_get_for_purchase(slug=slug)
    try:
        order = order_create(learner=request.user, course=course, client_ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("courses:course_detail", slug=course.slug)
    return redirect("payments:order_detail", order_no=order.order_no)


def payment_choices(device: Device) -> list[tuple[Gateway, PaymentMethod]]:
    """The ways to pay that work on `device`: those made for it first, then the ones that work
    everywhere (QR codes), each group in the order of PAYMENTS_CHANNELS."""
    choices = [(gateway, method) for gateway in gateway_list() for method in gateway.methods if method.suits(device)]
    return sorted(choices, key=lambda choice: choice[1].devices == EVERY_DEVICE)


@login_required
@require_GET
def order_detail(request, order_no: str):
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    device = device_from_user_agent(request.headers.get("User-Agent", ""))
    # A channel whose circuit is open stays listed, flagged and not selectable, so the learner sees
    # why their usual way to pay is missing and picks another (see payments.gateways.breakers).
    choices = (
        [
            (gateway, method, circuit_refusing(gateway.channel, "start_payment"))
            for gateway, method in payment_choices(device)
        ]
        if order.status == Order.Status.PENDING
        else []
    )
    available = [f"{gateway.channel}:{method.code}" for gateway, method, refusing in choices if not refusing]
    return render(
        request,
        "payments/order_detail.html",
        {
            "order": order,
            "choices": choices,
            "preselected": available[0] if available else "",
            "payments": order.payments.all(),
            "refunds": order.refunds.all(),
            "refund_in_flight": selectors.refund_in_flight_for_order(order=order),
            "refund_summary": selectors.order_refund_summary(order=order),
            "duplicate_refunds": selectors.duplicate_refunds_for_order(order=order),
        },
    )


@login_required
@rate_limit("checkout")
@require_POST
def order_pay(request, order_no: str):
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    channel, _, method = request.POST.get("method", "").partition(":")
    return _pay(request, order, channel, method)


def _pay(request, order: Order, channel: str, method: str):
    """Start paying and send the browser where the gateway's answer says."""
    try:
        payment, start = payment_start(order=order, channel=channel, method=method, client_ip=client_ip(request))
    except PayerAuthorizationRequired:
        return _authorize_payer(request, order, channel, method)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("payments:order_detail", order_no=order.order_no)
    except GatewayError as exc:
        messages.error(request, exc.user_message)
        return redirect("payments:order_detail", order_no=order.order_no)
    if start.kind == StartKind.REDIRECT:
        response = HttpResponseRedirect(start.url)
        # WeChat's H5 page checks that the browser comes from our site: send it our origin (the
        # default policy, same-origin, would send nothing to another site).
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        return response
    if start.kind == StartKind.FORM:
        return render(request, "payments/gateway_form.html", {"form_html": mark_safe(start.html)})  # noqa: S308 (gateway-built form from our own signed parameters)
    if start.kind == StartKind.BRIDGE:
        return redirect("payments:order_bridge", order_no=order.order_no, out_trade_no=payment.out_trade_no)
    return redirect("payments:order_qr", order_no=order.order_no, out_trade_no=payment.out_trade_no)


def _authorize_payer(request, order: Order, channel: str, method: str):
    """The method needs to know who pays: off to the gateway's web authorisation first."""
    try:
        url = payer_authorize_url(learner=request.user, order=order, channel=channel, method=method)
    except GatewayError as exc:
        messages.error(request, exc.user_message)
        return redirect("payments:order_detail", order_no=order.order_no)
    return HttpResponseRedirect(url)


@login_required
@require_GET
def payer_authorized(request, channel: str):
    """Where the gateway's web authorisation sends the learner back, with a code and our state."""
    try:
        authorization = payer_authorization_state_check(
            learner=request.user, channel=channel, state=request.GET.get("state", "")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("payments:order_list")
    order = selectors.order_get_for_learner(order_no=authorization.order_no, learner=request.user)
    try:
        payer_openid_learn(learner=request.user, channel=channel, code=request.GET.get("code", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("payments:order_detail", order_no=order.order_no)
    except GatewayError as exc:
        messages.error(request, exc.user_message)
        return redirect("payments:order_detail", order_no=order.order_no)
    return _pay(request, order, channel, authorization.method)


@login_required
@require_GET
def order_bridge(request, order_no: str, out_trade_no: str):
    """The page inside WeChat that hands the signed parameters to WeixinJSBridge (static JS)."""
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    payment = selectors.payment_get_open_for_order(order=order, out_trade_no=out_trade_no)
    context = {
        "order": order,
        "payment": payment,
        "bridge_params": payment.start_data.get("bridge_params") or {},
        "channel_name": channel_display_name(payment.channel),
    }
    return render(request, "payments/order_bridge.html", context)


@login_required
@require_GET
def order_qr(request, order_no: str, out_trade_no: str):
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    payment = selectors.payment_get_open_for_order(order=order, out_trade_no=out_trade_no)
    qr_content = payment.start_data.get("qr_content", "")
    qr_svg = segno.make(qr_content, error="m").svg_inline(scale=5) if qr_content else ""
    context = {
        "order": order,
        "payment": payment,
        "channel_name": channel_display_name(payment.channel),
        "qr_svg": mark_safe(qr_svg),  # noqa: S308 (SVG generated by segno from a URL string)
        "qr_content": qr_content,
    }
    return render(request, "payments/order_qr.html", context)


# UnionPay returns the browser with a POST (its front notification) from its own site, which carries
# no CSRF token; the page changes nothing the learner did not already approve at the gateway.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def order_return(request, order_no: str):
    """Where gateways send the learner back, after paying or after giving up (a cancelled cashier,
    an abandoned phone payment), and where "I have paid" leads: the gateway is asked now, and the
    page says what it answered. The browser's arrival proves nothing: only what the gateway
    verifiably says (a notification, a query, or the result of the capture that gateways like
    PayPal leave to us) marks anything paid.
    """
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    problem = ""
    still_checking = False
    if order.status == Order.Status.PENDING:
        try:
            order = order_return_complete(order=order)
            if order.status == Order.Status.PENDING:
                result = order_sync(order=order)
                order, still_checking = result.order, result.still_checking
        except GatewayRejected as exc:
            # A verified refusal (e.g. a declined capture): nothing was taken, the order stays payable.
            messages.error(request, exc.user_message)
        except GatewayError as exc:
            problem = exc.user_message
    if order.paid_at is not None:
        state = "paid"
    elif order.status != Order.Status.PENDING:
        state = "closed"
    elif still_checking:
        # Some gateway did not answer within PAYMENT_SYNC_BUDGET_SECONDS: its answer comes later.
        state = "checking"
    else:
        state = "unknown" if problem else "unpaid"
    return render(request, "payments/order_return.html", {"order": order, "state": state, "problem": problem})


@login_required
@require_GET
def order_status(request, order_no: str):
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    return JsonResponse(
        {
            "order_no": order.order_no,
            "status": order.status,
            "paid": order.status != Order.Status.PENDING and order.paid_at is not None,
            "enrolled": course_is_enrolled(learner=request.user, course=order.course),
        }
    )


@login_required
@require_POST
def order_cancel_view(request, order_no: str):
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    try:
        order_cancel(order=order)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The order was cancelled.")
    return redirect("payments:order_detail", order_no=order.order_no)


@login_required
@rate_limit("order_check")
@require_POST
def order_check(request, order_no: str):
    """ "I have paid": the return page asks the gateways now and says what they answered."""
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    return redirect("payments:order_return", order_no=order.order_no)


@login_required
@require_POST
def order_refund(request, order_no: str):
    order = selectors.order_get_for_learner(order_no=order_no, learner=request.user)
    form = RefundRequestForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("payments:order_detail", order_no=order.order_no)
    try:
        refund_request(
            order=order,
            learner=request.user,
            amount_fen=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            client_ip=client_ip(request),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Refund requested. We will let you know when it has been reviewed.")
    return redirect("payments:order_detail", order_no=order.order_no)


@login_required
@require_GET
def order_list(request):
    return render(request, "payments/order_list.html", {"rows": selectors.order_rows_for_learner(learner=request.user)})


@login_required
@require_GET
def order_receipt(request, order_no: str):
    receipt = receipt_get(order_no=order_no, user=request.user)
    return render(request, "payments/receipt.html", {"receipt": receipt})


@login_required
@require_GET
def order_receipt_pdf(request, order_no: str):
    receipt = receipt_get(order_no=order_no, user=request.user)
    response = HttpResponse(receipt_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.order_no}.pdf"'
    return response
