import pytest

from payments.gateways import gateway_get
from tests.factories import PaymentFactory


@pytest.fixture
def alipay_payment(course, learner):
    return PaymentFactory(channel="alipay", method="page", order__course=course, order__learner=learner)


@pytest.fixture
def live_alipay(gateway_site):
    """The Alipay gateway, built after the live server's URL became SITE_URL: it talks to the local Alipay."""
    return gateway_get("alipay")
