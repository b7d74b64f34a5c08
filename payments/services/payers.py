"""Who pays: the payer's openid for methods that need it (WeChat JSAPI), from the gateway's web
authorisation only.

The learner's browser is sent to the gateway with a `state` we sign; the gateway sends it back to
us with that state and a one-time code, which we exchange server to server for the openid. The
browser never tells us an openid: a forged code or a replayed one is refused by the gateway, a
forged, expired or someone else's state by us, and nothing is stored.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac

from accounts.models import User
from knowpay.api import ServiceError
from payments.gateways import UnknownChannel, gateway_get
from payments.models import Order, PayerOpenid

# How long a learner has between leaving for the authorisation and coming back.
STATE_MAX_AGE_SECONDS = 600
_MAC_HEX = 32


class PayerAuthorizationError(ServiceError):
    pass


_BAD_STATE = "This WeChat sign-in link is not valid or has expired. Please choose WeChat Pay again."


@dataclass(frozen=True)
class PayerAuthorization:
    """What the learner was doing when sent to authorise: paying this order this way."""

    order_no: str
    method: str


def _mac(*, learner: User, channel: str, payload: str) -> str:
    digest = salted_hmac(f"payments.payer-authorize:{channel}", f"{learner.pk}:{payload}", algorithm="sha256")
    return digest.hexdigest()[:_MAC_HEX]


def _state_for(*, learner: User, channel: str, order_no: str, method: str) -> str:
    # WeChat allows letters and digits only in a state, 128 at most: the payload travels as hex.
    payload = f"{order_no}.{method}.{int(time.time())}"
    return payload.encode().hex() + _mac(learner=learner, channel=channel, payload=payload)


def payer_authorization_state_check(*, learner: User, channel: str, state: str) -> PayerAuthorization:
    """The order and method a state was issued for, to this learner, recently.

    Raises: PayerAuthorizationError for a state that is forged, someone else's, or too old.
    """
    payload_hex, mac = state[:-_MAC_HEX], state[-_MAC_HEX:]
    try:
        payload = bytes.fromhex(payload_hex).decode("ascii")
        order_no, method, issued = payload.split(".")
        age = time.time() - int(issued)
    except ValueError:
        raise PayerAuthorizationError(_BAD_STATE, code="bad_state") from None
    if not hmac.compare_digest(mac, _mac(learner=learner, channel=channel, payload=payload)):
        raise PayerAuthorizationError(_BAD_STATE, code="bad_state")
    if not 0 <= age <= STATE_MAX_AGE_SECONDS:
        raise PayerAuthorizationError(_BAD_STATE, code="state_expired")
    return PayerAuthorization(order_no=order_no, method=method)


def payer_authorize_url(*, learner: User, order: Order, channel: str, method: str) -> str:
    """Where to send the learner so the gateway tells us their openid, then back to paying `order`.

    Raises: GatewayError (the channel cannot identify payers, or is misconfigured).
    """
    state = _state_for(learner=learner, channel=channel, order_no=order.order_no, method=method)
    redirect_uri = settings.SITE_URL + reverse("payments:payer_authorized", kwargs={"channel": channel})
    return gateway_get(channel).payer_authorize_url(redirect_uri=redirect_uri, state=state)


def payer_openid_learn(*, learner: User, channel: str, code: str) -> PayerOpenid:
    """Exchange the authorisation's code at the gateway and keep the learner's openid.

    Raises: PayerAuthorizationError without a code or for an unknown channel; PayerAuthorizationFailed
    (a GatewayError) for a code the gateway refuses; other GatewayErrors when it cannot answer.
    """
    if not code:
        raise PayerAuthorizationError("WeChat did not confirm who you are. Please try again.", code="no_code")
    try:
        gateway = gateway_get(channel)
    except UnknownChannel:
        raise PayerAuthorizationError(_BAD_STATE, code="unknown_channel") from None
    openid = gateway.payer_openid(code=code)
    return payer_openid_save(learner=learner, channel=channel, app_id=gateway.payer_app_id, openid=openid)


@transaction.atomic
def payer_openid_save(*, learner: User, channel: str, app_id: str, openid: str) -> PayerOpenid:
    payer, _ = PayerOpenid.objects.update_or_create(
        learner=learner, channel=channel, app_id=app_id, defaults={"openid": openid}
    )
    return payer
