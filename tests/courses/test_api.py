import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Course, Enrollment, Lesson
from tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

COURSES = reverse("api:course-list")
STUDIO_COURSES = reverse("api:studio-course-list")


def _detail(course) -> str:
    return reverse("api:course-detail", args=[course.slug])


def _studio(name: str, course, *args) -> str:
    return reverse(f"api:{name}", args=[course.slug, *args])


# --- Catalog and course detail -----------------------------------------------------------------------


def test_the_catalog_is_open_to_anonymous_callers_and_lists_published_courses(api, course, draft_course):
    body = api.get(COURSES).json()

    assert body["count"] == 1
    card = body["results"][0]
    assert card["slug"] == course.slug
    assert (card["price_fen"], card["price_display"], card["is_free"]) == (1290, "¥12.90", False)
    assert card["creator_name"] == course.creator.creator_profile.display_name
    assert card["cover"] is None


def test_the_catalog_searches_titles(api):
    CourseFactory(title="Python 数据分析入门", slug="python")
    CourseFactory(title="Excel 高效办公", slug="excel")

    body = api.get(COURSES, {"q": "excel"}).json()

    assert [card["slug"] for card in body["results"]] == ["excel"]


def test_the_catalog_pages_by_twelve(api):
    CourseFactory.create_batch(13)

    body = api.get(COURSES).json()

    assert (body["count"], len(body["results"])) == (13, 12)
    assert body["next"]


def test_the_catalog_query_count_does_not_grow_with_the_courses(api, django_assert_max_num_queries):
    CourseFactory()
    with CaptureQueriesContext(connection) as one_course:
        api.get(COURSES)
    CourseFactory.create_batch(11)

    with django_assert_max_num_queries(len(one_course)):
        body = api.get(COURSES).json()

    assert len(body["results"]) == 12


def test_a_draft_of_another_creator_is_404(api, other_creator, draft_course):
    api.force_authenticate(other_creator)

    response = api.get(_detail(draft_course))

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such course."


def test_anonymous_callers_get_lesson_titles_but_only_preview_bodies(api, paid_course):
    lessons = api.get(_detail(paid_course)).json()["lessons"]

    assert [lesson["title"] for lesson in lessons] == ["Preview lesson", "Locked lesson", "Last lesson"]
    assert [lesson["body"] for lesson in lessons] == ["Preview body.", None, None]
    assert [lesson["readable"] for lesson in lessons] == [True, False, False]


def test_an_enrolled_learner_gets_every_lesson_body(api, learner, paid_course):
    EnrollmentFactory(learner=learner, course=paid_course)
    api.force_authenticate(learner)

    body = api.get(_detail(paid_course)).json()

    assert body["is_enrolled"] is True
    assert [lesson["body"] for lesson in body["lessons"]] == ["Preview body.", "Locked body.", "Last body."]


# --- Enrollment --------------------------------------------------------------------------------------


def test_anonymous_callers_cannot_enroll(api, free_course):
    response = api.post(reverse("api:course-enroll", args=[free_course.slug]))

    assert response.status_code == 401
    assert not Enrollment.objects.exists()


def test_enrolling_twice_in_a_free_course_makes_one_row(api, learner, free_course):
    api.force_authenticate(learner)
    url = reverse("api:course-enroll", args=[free_course.slug])

    first = api.post(url)
    second = api.post(url)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["source"] == "free"
    assert Enrollment.objects.filter(learner=learner, course=free_course).count() == 1


def test_a_paid_course_cannot_be_joined_for_free(api, learner, paid_course):
    api.force_authenticate(learner)

    response = api.post(reverse("api:course-enroll", args=[paid_course.slug]))

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "not_free",
            "message": "Only published free courses can be joined without paying.",
            "fields": {},
        }
    }
    assert not Enrollment.objects.exists()


def test_my_enrollments_lists_active_ones(api, learner, paid_course):
    EnrollmentFactory(learner=learner, course=paid_course)
    EnrollmentFactory(course=CourseFactory())
    api.force_authenticate(learner)

    body = api.get(reverse("api:enrollment-list")).json()

    assert [item["course"]["slug"] for item in body["results"]] == [paid_course.slug]


def test_my_enrollments_needs_a_login(api):
    assert api.get(reverse("api:enrollment-list")).status_code == 401


# --- Studio ------------------------------------------------------------------------------------------


def test_a_non_creator_cannot_use_the_studio(api, learner):
    api.force_authenticate(learner)

    response = api.post(STUDIO_COURSES, {"title": "Mine", "price_fen": 100}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only creators can use the studio."
    assert not Course.objects.exists()


def test_a_negative_price_is_refused(api, creator):
    api.force_authenticate(creator)

    response = api.post(STUDIO_COURSES, {"title": "Mine", "price_fen": -1}, format="json")

    assert response.status_code == 400
    assert "price_fen" in response.json()["error"]["fields"]
    assert not Course.objects.exists()


def test_creating_a_course_returns_the_draft(api, creator):
    api.force_authenticate(creator)

    response = api.post(STUDIO_COURSES, {"title": "机器学习 ML", "price_fen": 19900}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["slug"], body["status"], body["price_display"]) == ("机器学习-ml", "draft", "¥199.00")
    assert Course.objects.get(slug="机器学习-ml").creator == creator


def test_the_studio_lists_only_the_callers_courses(api, creator, course, draft_course):
    CourseFactory()
    api.force_authenticate(creator)

    body = api.get(STUDIO_COURSES).json()

    assert {item["slug"] for item in body["results"]} == {course.slug, draft_course.slug}


def test_patching_changes_only_the_given_fields(api, creator, course):
    api.force_authenticate(creator)

    response = api.patch(_studio("studio-course-detail", course), {"price_fen": 990}, format="json")

    course.refresh_from_db()
    assert response.status_code == 200
    assert (course.price_fen, course.title) == (990, response.json()["title"])


@pytest.mark.parametrize("method", ["get", "patch"])
def test_another_creators_course_is_404_and_unchanged(api, other_creator, course, method):
    api.force_authenticate(other_creator)

    response = getattr(api, method)(_studio("studio-course-detail", course), {"title": "Hijacked"}, format="json")

    course.refresh_from_db()
    assert response.status_code == 404
    assert course.title != "Hijacked"


def test_publishing_without_lessons_is_a_400_with_a_code(api, creator):
    course = CourseFactory(creator=creator, status=Course.Status.DRAFT, published_at=None)
    api.force_authenticate(creator)

    response = api.post(_studio("studio-course-publish", course))

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "no_lessons",
        "message": "Add at least one lesson before publishing.",
        "fields": {},
    }


def test_publishing_a_draft_with_a_lesson(api, creator, draft_course):
    api.force_authenticate(creator)

    response = api.post(_studio("studio-course-publish", draft_course))

    assert response.json()["status"] == "published"


def test_another_creator_cannot_publish(api, other_creator, draft_course):
    api.force_authenticate(other_creator)

    response = api.post(_studio("studio-course-publish", draft_course))

    draft_course.refresh_from_db()
    assert response.status_code == 404
    assert draft_course.status == Course.Status.DRAFT


def test_adding_a_lesson_appends_it(api, creator, draft_course):
    api.force_authenticate(creator)

    response = api.post(
        _studio("studio-lesson-list", draft_course), {"title": "Two", "is_preview": True}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["position"], response.json()["is_preview"]) == (2, True)


def test_lessons_can_be_edited_moved_and_deleted(api, creator, paid_course):
    api.force_authenticate(creator)
    first = paid_course.lessons.get(position=1)

    api.patch(_studio("studio-lesson-detail", paid_course, first.pk), {"title": "Intro"}, format="json")
    moved = api.post(_studio("studio-lesson-move", paid_course, first.pk), {"direction": "down"}, format="json")
    deleted = api.delete(_studio("studio-lesson-detail", paid_course, first.pk))

    assert [lesson["title"] for lesson in moved.json()] == ["Locked lesson", "Intro", "Last lesson"]
    assert deleted.status_code == 204
    assert list(paid_course.lessons.values_list("title", flat=True)) == ["Locked lesson", "Last lesson"]


def test_another_creators_lessons_are_404_and_unchanged(api, other_creator, paid_course):
    api.force_authenticate(other_creator)
    lesson = paid_course.lessons.get(position=1)

    listing = api.get(_studio("studio-lesson-list", paid_course))
    patch = api.patch(_studio("studio-lesson-detail", paid_course, lesson.pk), {"title": "Hijacked"}, format="json")
    delete = api.delete(_studio("studio-lesson-detail", paid_course, lesson.pk))

    assert (listing.status_code, patch.status_code, delete.status_code) == (404, 404, 404)
    assert Lesson.objects.filter(pk=lesson.pk, title="Preview lesson").exists()
