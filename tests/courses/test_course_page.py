import pytest
from django.urls import reverse

from courses.models import Course, Enrollment
from tests.factories import CourseFactory, EnrollmentFactory, LessonFactory

pytestmark = pytest.mark.django_db


def _url(course) -> str:
    return reverse("courses:course_detail", args=[course.slug])


# --- Who may see the page ----------------------------------------------------------------------------


def test_an_unknown_course_is_404(client):
    assert client.get(reverse("courses:course_detail", args=["no-such-course"])).status_code == 404


def test_a_draft_of_another_creator_is_404(client, draft_course, other_creator):
    client.force_login(other_creator)

    assert client.get(_url(draft_course)).status_code == 404


def test_a_draft_is_404_for_anonymous_visitors(client, draft_course):
    assert client.get(_url(draft_course)).status_code == 404


def test_an_archived_course_is_404_for_someone_not_enrolled(client, learner):
    archived = CourseFactory(status=Course.Status.ARCHIVED)
    client.force_login(learner)

    assert client.get(_url(archived)).status_code == 404


def test_the_creator_sees_their_own_draft(client, draft_course, creator):
    client.force_login(creator)

    response = client.get(_url(draft_course))

    assert response.status_code == 200
    assert "This course is draft" in response.text


def test_staff_who_review_content_see_any_draft(client, draft_course, staff):
    client.force_login(staff)

    assert client.get(_url(draft_course)).status_code == 200


def test_the_staff_flag_alone_does_not_show_a_draft(client, draft_course, bare_staff):
    client.force_login(bare_staff)

    assert client.get(_url(draft_course)).status_code == 404


def test_an_enrolled_learner_keeps_seeing_an_archived_course(client, learner, paid_course):
    EnrollmentFactory(learner=learner, course=paid_course)
    Course.objects.filter(pk=paid_course.pk).update(status=Course.Status.ARCHIVED)
    client.force_login(learner)

    response = client.get(reverse("courses:lesson_detail", args=[paid_course.slug, 2]))

    assert response.status_code == 200
    assert "Locked body." in response.text


def test_a_chinese_slug_works_in_the_address(client):
    course = CourseFactory(slug="python-数据分析入门", title="Python 数据分析入门")

    response = client.get(_url(course))

    assert response.status_code == 200
    assert course.title in response.text


# --- What the page shows -----------------------------------------------------------------------------


def test_the_page_shows_title_creator_description_and_price(client, paid_course):
    Course.objects.filter(pk=paid_course.pk).update(description="Everything about it.")

    response = client.get(_url(paid_course))

    assert paid_course.title in response.text
    assert paid_course.creator.creator_profile.display_name in response.text
    assert "Everything about it." in response.text
    assert "¥12.90" in response.text


def test_lessons_are_listed_in_order(client, paid_course):
    response = client.get(_url(paid_course))

    text = response.text
    assert text.index("Preview lesson") < text.index("Locked lesson") < text.index("Last lesson")


def test_a_locked_lesson_is_not_linked_for_someone_not_enrolled(client, learner, paid_course):
    client.force_login(learner)

    response = client.get(_url(paid_course))

    assert reverse("courses:lesson_detail", args=[paid_course.slug, 1]) in response.text
    assert reverse("courses:lesson_detail", args=[paid_course.slug, 2]) not in response.text
    assert "Locked body." not in response.text


def test_every_lesson_is_linked_for_an_enrolled_learner(client, learner, paid_course):
    EnrollmentFactory(learner=learner, course=paid_course)
    client.force_login(learner)

    response = client.get(_url(paid_course))

    assert reverse("courses:lesson_detail", args=[paid_course.slug, 3]) in response.text


def test_a_revoked_enrollment_no_longer_unlocks_lessons(client, learner, paid_course):
    enrollment = EnrollmentFactory(learner=learner, course=paid_course)
    Enrollment.objects.filter(pk=enrollment.pk).update(revoked_at=enrollment.granted_at)
    client.force_login(learner)

    response = client.get(_url(paid_course))

    assert reverse("courses:lesson_detail", args=[paid_course.slug, 2]) not in response.text


# --- The action box ----------------------------------------------------------------------------------


def test_anonymous_visitors_are_asked_to_log_in_to_buy(client, paid_course):
    response = client.get(_url(paid_course))

    assert "Log in to buy" in response.text
    assert f"{reverse('accounts:login')}?next=" in response.text


def test_anonymous_visitors_are_asked_to_log_in_to_enroll_in_a_free_course(client, free_course):
    response = client.get(_url(free_course))

    assert "Log in to enroll" in response.text


def test_a_free_course_offers_free_enrollment(client, learner, free_course):
    client.force_login(learner)

    response = client.get(_url(free_course))

    assert reverse("courses:enroll_free", args=[free_course.slug]) in response.text
    assert "Enroll for free" in response.text


@pytest.mark.urls("tests.courses.urls_with_buy")
def test_a_paid_course_offers_a_buy_form_posting_to_payments(client, learner, paid_course):
    client.force_login(learner)

    response = client.get(_url(paid_course))

    assert f'action="{reverse("payments:buy", args=[paid_course.slug])}"' in response.text
    assert "Buy for ¥12.90" in response.text


@pytest.mark.urls("tests.courses.urls_without_buy")
def test_without_a_payments_buy_url_the_buy_form_is_left_out(client, learner, paid_course):
    client.force_login(learner)

    response = client.get(_url(paid_course))

    assert response.status_code == 200
    assert "Buy for" not in response.text


def test_an_enrolled_learner_is_offered_the_first_lesson(client, learner, paid_course):
    EnrollmentFactory(learner=learner, course=paid_course)
    client.force_login(learner)

    response = client.get(_url(paid_course))

    assert "Start learning" in response.text
    assert "Buy for" not in response.text
    assert response.context["first_lesson"].position == 1


# --- Free enrollment ---------------------------------------------------------------------------------


def test_enrolling_by_get_is_refused(client, learner, free_course):
    client.force_login(learner)

    response = client.get(reverse("courses:enroll_free", args=[free_course.slug]))

    assert response.status_code == 405
    assert not Enrollment.objects.exists()


def test_anonymous_enrollment_is_sent_to_log_in(client, free_course):
    response = client.post(reverse("courses:enroll_free", args=[free_course.slug]))

    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Enrollment.objects.exists()


def test_free_enrollment_twice_makes_one_row(client, learner, free_course):
    client.force_login(learner)
    url = reverse("courses:enroll_free", args=[free_course.slug])

    client.post(url)
    response = client.post(url, follow=True)

    assert Enrollment.objects.filter(learner=learner, course=free_course).count() == 1
    assert Enrollment.objects.get(learner=learner).source == Enrollment.Source.FREE
    assert "Start learning" in response.text


def test_a_paid_course_cannot_be_joined_through_free_enrollment(client, learner, paid_course):
    client.force_login(learner)

    response = client.post(reverse("courses:enroll_free", args=[paid_course.slug]), follow=True)

    assert not Enrollment.objects.exists()
    assert "Only published free courses can be joined without paying." in response.text


def test_a_free_draft_of_another_creator_cannot_be_joined(client, learner):
    draft = CourseFactory(price_fen=0, status=Course.Status.DRAFT)
    LessonFactory(course=draft)
    client.force_login(learner)

    response = client.post(reverse("courses:enroll_free", args=[draft.slug]))

    assert response.status_code == 404
    assert not Enrollment.objects.exists()
