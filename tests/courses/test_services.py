import pytest

from courses.models import Course, Enrollment, Lesson
from courses.services import (
    CourseError,
    EnrollmentError,
    course_archive,
    course_create,
    course_publish,
    course_unpublish,
    course_update,
    enrollment_grant,
    lesson_create,
    lesson_delete,
    lesson_move,
)
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db


def _titles(course: Course) -> list[str]:
    return list(course.lessons.order_by("position").values_list("title", flat=True))


def _positions(course: Course) -> list[int]:
    return list(course.lessons.order_by("position").values_list("position", flat=True))


# --- Creating and editing courses ---------------------------------------------------------------


def test_only_creators_can_create_courses(learner):
    with pytest.raises(CourseError) as raised:
        course_create(creator=learner, title="Mine", price_fen=100)

    assert raised.value.code == "not_creator"
    assert not Course.objects.exists()


def test_a_requested_slug_used_by_another_course_is_refused(creator):
    CourseFactory(slug="taken")

    with pytest.raises(CourseError) as raised:
        course_create(creator=creator, title="Mine", slug="taken", price_fen=100)

    assert raised.value.code == "slug_taken"
    assert Course.objects.filter(slug="taken").count() == 1


def test_a_blank_title_is_refused(creator):
    with pytest.raises(CourseError):
        course_create(creator=creator, title="   ", price_fen=100)

    assert not Course.objects.filter(creator=creator).exists()


def test_a_new_course_is_a_draft(creator):
    course = course_create(creator=creator, title="Mine", price_fen=990)

    assert course.status == Course.Status.DRAFT
    assert course.published_at is None
    assert course.price_fen == 990


def test_a_chinese_title_makes_a_readable_slug(creator):
    course = course_create(creator=creator, title="Python 数据分析入门", price_fen=4900)

    assert course.slug == "python-数据分析入门"


def test_a_slug_collision_gets_a_numeric_suffix(creator):
    first = course_create(creator=creator, title="零基础学摄影", price_fen=0)
    second = course_create(creator=creator, title="零基础学摄影", price_fen=0)
    third = course_create(creator=creator, title="零基础学摄影!", price_fen=0)

    assert [first.slug, second.slug, third.slug] == ["零基础学摄影", "零基础学摄影-2", "零基础学摄影-3"]


def test_a_title_without_letters_gets_a_generic_slug(creator):
    course = course_create(creator=creator, title="!!!", price_fen=0)

    assert course.slug == "course"


def test_updating_with_a_blank_slug_makes_a_new_one_from_the_title(creator):
    course = course_create(creator=creator, title="Old title", price_fen=100)

    course = course_update(course=course, data={"title": "New title", "slug": ""})

    course.refresh_from_db()
    assert (course.title, course.slug) == ("New title", "new-title")


def test_updating_keeps_the_fields_not_given(creator):
    course = course_create(creator=creator, title="Title", summary="Summary", price_fen=100)

    course_update(course=course, data={"price_fen": 4900})

    course.refresh_from_db()
    assert (course.title, course.summary, course.price_fen) == ("Title", "Summary", 4900)


def test_updating_to_a_slug_of_another_course_is_refused_and_changes_nothing(course):
    CourseFactory(slug="taken")

    with pytest.raises(CourseError):
        course_update(course=course, data={"title": "Changed", "slug": "taken"})

    course.refresh_from_db()
    assert course.title != "Changed"


# --- Status ------------------------------------------------------------------------------------------


def test_a_course_without_lessons_cannot_be_published(creator):
    course = course_create(creator=creator, title="Empty", price_fen=100)

    with pytest.raises(CourseError) as raised:
        course_publish(course=course)

    course.refresh_from_db()
    assert raised.value.code == "no_lessons"
    assert course.status == Course.Status.DRAFT


def test_publishing_puts_the_course_in_the_catalog_with_a_date(creator):
    course = course_create(creator=creator, title="Ready", price_fen=100)
    lesson_create(course=course, title="One")

    course_publish(course=course)

    course.refresh_from_db()
    assert course.status == Course.Status.PUBLISHED
    assert course.published_at is not None


def test_republishing_keeps_the_first_publication_date(course):
    LessonFactory(course=course)
    first_published_at = course.published_at
    course_unpublish(course=course)

    course = course_publish(course=course)

    assert course.published_at == first_published_at


def test_only_a_published_course_can_be_unpublished(draft_course):
    with pytest.raises(CourseError) as raised:
        course_unpublish(course=draft_course)

    assert raised.value.code == "not_published"


def test_unpublishing_returns_the_course_to_draft(course):
    course_unpublish(course=course)

    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT


def test_archiving_keeps_enrollments_active(course, learner):
    enrollment_grant(learner=learner, course=course, source=Enrollment.Source.PURCHASE)

    course_archive(course=course)

    course.refresh_from_db()
    assert course.status == Course.Status.ARCHIVED
    assert Enrollment.objects.get(learner=learner, course=course).is_active


# --- Lessons -----------------------------------------------------------------------------------------


def test_lessons_are_appended_in_order(draft_course):
    lesson_create(course=draft_course, title="Second")
    lesson_create(course=draft_course, title="Third", is_preview=True)

    assert _titles(draft_course) == ["Draft lesson", "Second", "Third"]
    assert _positions(draft_course) == [1, 2, 3]


def test_deleting_a_lesson_closes_the_gap(paid_course):
    lesson_delete(lesson=paid_course.lessons.get(position=1))

    assert _titles(paid_course) == ["Locked lesson", "Last lesson"]
    assert _positions(paid_course) == [1, 2]


def test_the_only_lesson_of_a_published_course_cannot_be_deleted(course):
    lesson = LessonFactory(course=course, position=1)

    with pytest.raises(CourseError) as raised:
        lesson_delete(lesson=lesson)

    assert raised.value.code == "last_lesson"
    assert Lesson.objects.filter(pk=lesson.pk).exists()


def test_the_only_lesson_of_a_draft_can_be_deleted(draft_course):
    lesson_delete(lesson=draft_course.lessons.get())

    assert not draft_course.lessons.exists()


def test_moving_a_lesson_up_swaps_it_with_the_one_above(paid_course):
    lesson_move(lesson=paid_course.lessons.get(title="Last lesson"), direction="up")

    assert _titles(paid_course) == ["Preview lesson", "Last lesson", "Locked lesson"]
    assert _positions(paid_course) == [1, 2, 3]


def test_moving_a_lesson_down_swaps_it_with_the_one_below(paid_course):
    lesson_move(lesson=paid_course.lessons.get(title="Preview lesson"), direction="down")

    assert _titles(paid_course) == ["Locked lesson", "Preview lesson", "Last lesson"]


@pytest.mark.parametrize(("title", "direction"), [("Preview lesson", "up"), ("Last lesson", "down")])
def test_moving_past_either_end_changes_nothing(paid_course, title, direction):
    lesson_move(lesson=paid_course.lessons.get(title=title), direction=direction)

    assert _titles(paid_course) == ["Preview lesson", "Locked lesson", "Last lesson"]


# --- Enrollment ------------------------------------------------------------------------------------


def test_a_free_enrollment_twice_makes_one_row(free_course, learner):
    enrollment_grant(learner=learner, course=free_course, source=Enrollment.Source.FREE)
    enrollment_grant(learner=learner, course=free_course, source=Enrollment.Source.FREE)

    assert Enrollment.objects.filter(learner=learner, course=free_course).count() == 1


def test_a_paid_course_cannot_be_joined_for_free(paid_course, learner):
    with pytest.raises(EnrollmentError) as raised:
        enrollment_grant(learner=learner, course=paid_course, source=Enrollment.Source.FREE)

    assert raised.value.code == "not_free"
    assert not Enrollment.objects.filter(learner=learner).exists()


def test_deleting_a_lesson_twice_is_harmless(paid_course):
    lesson = paid_course.lessons.get(position=1)
    lesson_delete(lesson=lesson)

    lesson_delete(lesson=lesson)

    assert _positions(paid_course) == [1, 2]
