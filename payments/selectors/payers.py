"""Reads of what we know about payers at gateways."""

from __future__ import annotations

from accounts.models import User
from payments.models import PayerOpenid


def payer_openid_for(*, learner: User, channel: str, app_id: str) -> str:
    """The learner's openid at `app_id`, or "" if they have not been through its authorisation."""
    payer = PayerOpenid.objects.filter(learner=learner, channel=channel, app_id=app_id).only("openid").first()
    return payer.openid if payer else ""
