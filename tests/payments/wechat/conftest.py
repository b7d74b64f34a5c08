import pytest

from payments.simulators.wechat import is_acknowledged
from payments.simulators.wechat.protocol import parse
from tests.factories import PaymentFactory

NOTIFY_URL = "/payments/notify/wechat/"
REFUND_NOTIFY_URL = "/payments/notify/wechat/refund/"


@pytest.fixture(autouse=True)
def _wechat_enabled(settings):
    settings.PAYMENTS_CHANNELS = ["wechat"]


@pytest.fixture
def payment(course, learner):
    return PaymentFactory(order__course=course, order__learner=learner, channel="wechat", method="native")


@pytest.fixture
def post_notify(client):
    def post(body: bytes, url: str = NOTIFY_URL):
        return client.post(url, data=body, content_type="text/xml")

    return post


def acknowledged(response) -> bool:
    """What WeChat makes of our reply: True stops its resending."""
    return is_acknowledged(response.status_code, response.content.decode())


def reply_fields(response) -> dict[str, str]:
    return parse(response.content)
