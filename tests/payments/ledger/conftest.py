import pytest

from payments.gateways import gateway_get
from tests.factories import CourseFactory, CreatorFactory, UserFactory
from tests.payments.ledger.fakes import TransferGateway


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def course_at(creator):
    """A course of `creator` at a given price in fen."""

    def make(price_fen: int):
        return CourseFactory(creator=creator, price_fen=price_fen)

    return make


@pytest.fixture
def other_creator(db):
    return CreatorFactory()


@pytest.fixture
def transfer_gateway(settings):
    """Payouts transfer through TransferGateway; its answers are scripted by each test."""
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "testpay": "tests.payments.ledger.fakes.TransferGateway"}
    settings.PAYMENTS_CHANNELS = [*settings.PAYMENTS_CHANNELS, "testpay"]
    settings.PAYOUT_TRANSFER_CHANNEL = "testpay"
    TransferGateway.answers = []
    TransferGateway.requests = []
    yield gateway_get("testpay")
    TransferGateway.answers = []
    TransferGateway.requests = []
