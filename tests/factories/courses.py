import factory
from django.utils import timezone

from courses.models import Course, Enrollment, Lesson
from tests.factories.accounts import CreatorFactory, UserFactory


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    creator = factory.SubFactory(CreatorFactory)
    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    summary = "Learn something useful."
    price_fen = 1290
    status = Course.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    course = factory.SubFactory(CourseFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    body = "Lesson body."


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    learner = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    source = Enrollment.Source.PURCHASE
    granted_at = factory.LazyFunction(timezone.now)
