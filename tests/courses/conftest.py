import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from courses.models import Course
from tests.factories import CourseFactory, CreatorFactory, LessonFactory, UserFactory


@pytest.fixture
def other_creator(db):
    return CreatorFactory()


@pytest.fixture
def staff(db):
    """Staff who review content: the view_lesson permission opens every lesson."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="courses", codename="view_lesson"))
    return user


@pytest.fixture
def bare_staff(db):
    """The staff flag and nothing else."""
    return UserFactory(is_staff=True)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def free_course(creator):
    course = CourseFactory(creator=creator, price_fen=0, title="免费课 Free course", slug="free-course")
    LessonFactory(course=course, position=1, title="Welcome", body="Free body.", is_preview=True)
    LessonFactory(course=course, position=2, title="Second", body="Second body.")
    return course


@pytest.fixture
def paid_course(creator):
    """Published, ¥12.90, a preview lesson then two locked ones."""
    course = CourseFactory(creator=creator, price_fen=1290, title="Paid course", slug="paid-course")
    LessonFactory(course=course, position=1, title="Preview lesson", body="Preview body.", is_preview=True)
    LessonFactory(course=course, position=2, title="Locked lesson", body="Locked body.")
    LessonFactory(course=course, position=3, title="Last lesson", body="Last body.")
    return course


@pytest.fixture
def draft_course(creator):
    course = CourseFactory(
        creator=creator, title="Draft course", slug="draft-course", status=Course.Status.DRAFT, published_at=None
    )
    LessonFactory(course=course, position=1, title="Draft lesson", body="Draft body.", is_preview=True)
    return course
