from tests.factories.accounts import CreatorFactory, UserFactory
from tests.factories.courses import CourseFactory, EnrollmentFactory, LessonFactory
from tests.factories.payments import OrderFactory, PaymentFactory, RefundFactory

__all__ = [
    "CourseFactory",
    "CreatorFactory",
    "EnrollmentFactory",
    "LessonFactory",
    "OrderFactory",
    "PaymentFactory",
    "RefundFactory",
    "UserFactory",
]
