import datetime as dt

import factory
from django.utils import timezone

from payments.models import Order, Payment, Refund
from tests.factories.accounts import UserFactory
from tests.factories.courses import CourseFactory


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    order_no = factory.Sequence(lambda n: f"KP20261122000000{n:06d}")
    learner = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    amount_fen = factory.LazyAttribute(lambda o: o.course.price_fen)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(minutes=30))


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    channel = "sandbox"
    method = "page"
    out_trade_no = factory.LazyAttributeSequence(lambda p, n: f"{p.order.order_no}P{n % 100:02d}")
    amount_fen = factory.LazyAttribute(lambda p: p.order.amount_fen)


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    payment = factory.SubFactory(PaymentFactory)
    order = factory.LazyAttribute(lambda r: r.payment.order)
    refund_no = factory.LazyAttributeSequence(lambda r, n: f"{r.order.order_no}R{n % 100:02d}")
    amount_fen = factory.LazyAttribute(lambda r: r.payment.amount_fen)
    kind = Refund.Kind.LEARNER
    status = Refund.Status.REQUESTED
