import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from courses.models import Course
from tests.admin_helpers import form_data
from tests.factories import CourseFactory, EnrollmentFactory, LessonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url_name",
    ["admin:courses_course_changelist", "admin:courses_course_add", "admin:courses_enrollment_changelist"],
)
def test_course_admin_pages_open_for_staff(staff_client, url_name):
    EnrollmentFactory()

    response = staff_client.get(reverse(url_name))

    assert response.status_code == 200


def test_the_course_change_page_shows_its_lessons(staff_client, paid_course):
    response = staff_client.get(reverse("admin:courses_course_change", args=[paid_course.pk]))

    assert "Locked lesson" in response.text


def test_the_publish_action_refuses_a_course_without_lessons(staff_client):
    empty = CourseFactory(status=Course.Status.DRAFT, published_at=None)
    ready = CourseFactory(status=Course.Status.DRAFT, published_at=None)
    LessonFactory(course=ready)

    response = staff_client.post(
        reverse("admin:courses_course_changelist"),
        {"action": "publish", "_selected_action": [empty.pk, ready.pk]},
        follow=True,
    )

    empty.refresh_from_db()
    ready.refresh_from_db()
    assert (empty.status, ready.status) == (Course.Status.DRAFT, Course.Status.PUBLISHED)
    assert "Add at least one lesson before publishing." in response.text


def test_enrollments_cannot_be_edited_in_the_admin(staff_client):
    enrollment = EnrollmentFactory()

    response = staff_client.post(reverse("admin:courses_enrollment_change", args=[enrollment.pk]), {"source": "staff"})

    enrollment.refresh_from_db()
    assert response.status_code == 403
    assert enrollment.source == "purchase"


def test_replacing_a_cover_in_the_admin_deletes_the_old_file(staff_client, creator, django_capture_on_commit_callbacks):
    course = CourseFactory(creator=creator, price_fen=1290, cover=_png("old.png"))
    old = course.cover.name
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = {**form_data(staff_client.get(url)), "cover": _png("new.png")}

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, data)

    course.refresh_from_db()
    assert course.cover.name != old
    assert not course.cover.storage.exists(old)
    assert course.cover.storage.exists(course.cover.name)


def _png(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), "navy").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
