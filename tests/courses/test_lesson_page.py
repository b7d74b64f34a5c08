import pytest
from django.urls import reverse

from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def _url(course, position: int) -> str:
    return reverse("courses:lesson_detail", args=[course.slug, position])


def test_an_unknown_lesson_is_404(client, paid_course):
    assert client.get(_url(paid_course, 9)).status_code == 404


def test_a_lesson_of_another_creators_draft_is_404_even_as_a_preview(client, other_creator, draft_course):
    client.force_login(other_creator)

    assert client.get(_url(draft_course, 1)).status_code == 404


def test_a_locked_lesson_sends_someone_not_enrolled_back_to_the_course_page(client, learner, paid_course):
    client.force_login(learner)

    response = client.get(_url(paid_course, 2), follow=True)

    assert response.redirect_chain == [(reverse("courses:course_detail", args=[paid_course.slug]), 302)]
    assert "“Locked lesson” is for enrolled learners." in response.text
    assert "Locked body." not in response.text


def test_a_locked_lesson_is_not_shown_to_anonymous_visitors(client, paid_course):
    response = client.get(_url(paid_course, 2))

    assert response.status_code == 302
    assert "Locked body." not in response.text


def test_a_preview_lesson_is_readable_by_anyone(client, paid_course):
    response = client.get(_url(paid_course, 1))

    assert response.status_code == 200
    assert "Preview body." in response.text


def test_an_enrolled_learner_reads_a_locked_lesson(client, learner, paid_course):
    EnrollmentFactory(learner=learner, course=paid_course)
    client.force_login(learner)

    response = client.get(_url(paid_course, 2))

    assert "Locked body." in response.text


@pytest.mark.parametrize("reader", ["creator", "staff"])
def test_the_creator_and_staff_read_every_lesson(client, paid_course, reader, request):
    client.force_login(request.getfixturevalue(reader))

    assert "Last body." in client.get(_url(paid_course, 3)).text


def test_the_staff_flag_alone_does_not_open_a_paid_lesson(client, paid_course, bare_staff):
    client.force_login(bare_staff)

    response = client.get(_url(paid_course, 3))

    assert "Last body." not in response.text


def test_a_lesson_links_to_the_previous_and_next_lessons(client, creator, paid_course):
    client.force_login(creator)

    response = client.get(_url(paid_course, 2))

    assert response.context["previous"].title == "Preview lesson"
    assert response.context["next"].title == "Last lesson"
    assert f'href="{_url(paid_course, 1)}"' in response.text
    assert f'href="{_url(paid_course, 3)}"' in response.text


def test_the_last_lesson_has_no_next_link(client, creator, paid_course):
    client.force_login(creator)

    response = client.get(_url(paid_course, 3))

    assert response.context["next"] is None


def test_lesson_bodies_are_escaped(client, paid_course):
    paid_course.lessons.filter(position=1).update(body="<script>alert(1)</script>")

    response = client.get(_url(paid_course, 1))

    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text
