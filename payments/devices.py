"""Which kind of browser a learner uses, from its user agent: it decides the ways to pay offered.

A user agent is only a hint (it can be changed), so it only chooses what checkout offers; every
method still works, or fails at its gateway with a clear message, wherever it is started.
"""

from __future__ import annotations

import re

from payments.gateways.base import Device

# WeChat's in-app browser on phones and computers alike.
_WECHAT = re.compile(r"MicroMessenger", re.I)
_PHONE = re.compile(r"Mobile|Android|iPhone|iPad|iPod|HarmonyOS|OpenHarmony|Windows Phone", re.I)


def device_from_user_agent(user_agent: str) -> Device:
    if _WECHAT.search(user_agent):
        return Device.WECHAT
    if _PHONE.search(user_agent):
        return Device.PHONE
    return Device.DESKTOP
