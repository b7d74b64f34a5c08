import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

MY_LEARNING = reverse("courses:my_learning")


def test_my_learning_needs_a_login(client):
    response = client.get(MY_LEARNING)

    assert response["Location"].startswith(reverse("accounts:login"))


def test_my_learning_lists_active_enrollments_only(client, learner):
    active = EnrollmentFactory(learner=learner, course=CourseFactory(title="Active course"))
    EnrollmentFactory(learner=learner, course=CourseFactory(title="Refunded course"), revoked_at=timezone.now())
    EnrollmentFactory(course=CourseFactory(title="Someone else's course"))
    client.force_login(learner)

    response = client.get(MY_LEARNING)

    assert list(response.context["enrollments"]) == [active]
    assert "Active course" in response.text
    assert "Refunded course" not in response.text
    assert "Someone else&#x27;s course" not in response.text


def test_my_learning_without_enrollments_points_to_the_catalog(client, learner):
    client.force_login(learner)

    response = client.get(MY_LEARNING)

    assert "You are not enrolled in any course yet." in response.text
