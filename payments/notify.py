"""The csrf-exempt endpoints gateways post their asynchronous notifications to.

Each stores the raw request first, hands it to the one processing service, and answers in the
gateway's own dialect: acknowledge only what was applied (now or before) or recorded for staff (a
second gateway trade for a paid attempt, kept as a PaymentAnomaly), so anything else is sent again
by the gateway.
"""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from knowpay.ratelimit import rate_limit
from payments.gateways import UnknownChannel, gateway_get
from payments.models import GatewayNotification
from payments.services.notifications import notification_process, notification_store


def _read_body(request) -> tuple[bytes, bool]:
    """The body, at most NOTIFY_MAX_BODY_BYTES of it, and whether it was longer."""
    limit = settings.NOTIFY_MAX_BODY_BYTES
    body = request.read(limit + 1)
    return body[:limit], len(body) > limit


def _handle(request, channel: str, kind: str) -> HttpResponse:
    try:
        gateway = gateway_get(channel)
    except UnknownChannel:
        raise Http404("Unknown payment channel.") from None
    body, truncated = _read_body(request)
    notification = notification_store(
        channel=channel,
        kind=kind,
        body=body,
        truncated=truncated,
        meta=request.META,
        remote_addr=request.META.get("REMOTE_ADDR"),
        keep_headers=gateway.notification_headers,
    )
    result = notification_process(notification=notification)
    reply = gateway.notification_reply(accepted=result.acknowledge, message=result.notification.outcome)
    return HttpResponse(reply.body, content_type=reply.content_type, status=reply.status)


@csrf_exempt
@rate_limit("notify")
@require_POST
def notify(request, channel: str):
    return _handle(request, channel, GatewayNotification.Kind.PAYMENT)


@csrf_exempt
@rate_limit("notify")
@require_POST
def notify_refund(request, channel: str):
    return _handle(request, channel, GatewayNotification.Kind.REFUND)
