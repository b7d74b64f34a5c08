import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from courses.models import Course, Lesson
from tests.factories import CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db

STUDIO = reverse("courses:studio")
NEW_COURSE = reverse("courses:studio_course_create")


def _course_form(**overrides):
    return {
        "title": "新课程 New course",
        "slug": "",
        "summary": "Short.",
        "description": "Long.",
        "price_yuan": "12.90",
        **overrides,
    }


def _png(size: tuple[int, int] = (16, 9)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, format="PNG")
    return SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")


def _edit_url(course) -> str:
    return reverse("courses:studio_course_edit", args=[course.slug])


def _lesson_url(name: str, lesson: Lesson) -> str:
    return reverse(f"courses:{name}", args=[lesson.course.slug, lesson.pk])


# --- Who gets in -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(STUDIO)

    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url", [STUDIO, NEW_COURSE])
def test_a_non_creator_is_sent_to_the_profile_page_with_a_message(client, learner, url):
    client.force_login(learner)

    response = client.get(url, follow=True)

    assert response.redirect_chain == [(reverse("accounts:profile"), 302)]
    assert "The studio is for creators." in response.text


def test_a_non_creator_cannot_create_a_course(client, learner):
    client.force_login(learner)

    client.post(NEW_COURSE, _course_form())

    assert not Course.objects.exists()


def test_the_studio_lists_only_the_creators_own_courses_with_their_status(client, creator, draft_course, course):
    theirs = CourseFactory(title="Not mine")
    client.force_login(creator)

    response = client.get(STUDIO)

    assert set(response.context["courses"]) == {draft_course, course}
    assert theirs.title not in response.text
    assert '<span class="badge badge-draft">Draft</span>' in response.text
    assert '<span class="badge badge-published">Published</span>' in response.text


# --- Creating and editing a course -------------------------------------------------------------------


@pytest.mark.parametrize("price", ["-1", "abc", "12.345"])
def test_a_bad_price_is_refused_and_what_was_typed_is_kept(client, creator, price):
    client.force_login(creator)

    response = client.post(NEW_COURSE, _course_form(price_yuan=price))

    assert response.status_code == 200
    assert response.context["form"].errors["price_yuan"]
    assert 'value="新课程 New course"' in response.text
    assert f'value="{price}"' in response.text
    assert not Course.objects.exists()


def test_creating_a_course_stores_the_price_in_fen_as_a_draft(client, creator):
    client.force_login(creator)

    response = client.post(NEW_COURSE, _course_form())

    course = Course.objects.get()
    assert response["Location"] == _edit_url(course)
    assert (course.creator, course.price_fen, course.status) == (creator, 1290, Course.Status.DRAFT)
    assert course.slug == "新课程-new-course"


def test_creating_a_course_with_a_taken_slug_shows_the_error_on_the_slug(client, creator):
    CourseFactory(slug="taken")
    client.force_login(creator)

    response = client.post(NEW_COURSE, _course_form(slug="taken"))

    assert response.context["form"].errors["slug"] == ["The address “taken” is already used by another course."]
    assert Course.objects.count() == 1


def test_a_cover_image_is_uploaded(client, creator):
    client.force_login(creator)

    client.post(NEW_COURSE, {**_course_form(), "cover": _png()})

    assert Course.objects.get().cover.name.endswith(".png")


def test_a_file_that_is_not_an_image_is_refused_as_cover(client, creator):
    client.force_login(creator)
    text = SimpleUploadedFile("cover.png", b"not an image", content_type="image/png")

    response = client.post(NEW_COURSE, {**_course_form(), "cover": text})

    assert "cover" in response.context["form"].errors
    assert not Course.objects.exists()


def test_the_edit_form_shows_the_price_in_yuan(client, creator, course):
    client.force_login(creator)

    response = client.get(_edit_url(course))

    assert 'value="12.90"' in response.text


def test_editing_a_course_saves_the_changes(client, creator, course):
    client.force_login(creator)

    response = client.post(_edit_url(course), _course_form(title="Renamed", slug=course.slug, price_yuan="199"))

    course.refresh_from_db()
    assert response["Location"] == _edit_url(course)
    assert (course.title, course.price_fen) == ("Renamed", 19900)


def test_editing_keeps_the_cover_unless_cleared(client, creator):
    client.force_login(creator)
    client.post(NEW_COURSE, {**_course_form(), "cover": _png()})
    course = Course.objects.get()

    client.post(_edit_url(course), _course_form(slug=course.slug))
    course.refresh_from_db()
    kept = bool(course.cover)
    client.post(_edit_url(course), {**_course_form(slug=course.slug), "cover-clear": "on"})
    course.refresh_from_db()

    assert kept
    assert not course.cover


def test_another_creators_course_is_404_and_unchanged(client, other_creator, course):
    client.force_login(other_creator)

    get = client.get(_edit_url(course))
    post = client.post(_edit_url(course), _course_form(title="Hijacked", slug=course.slug))

    course.refresh_from_db()
    assert (get.status_code, post.status_code) == (404, 404)
    assert course.title != "Hijacked"


@pytest.mark.parametrize("action", ["studio_course_publish", "studio_course_unpublish", "studio_course_archive"])
def test_another_creator_cannot_change_a_courses_status(client, other_creator, course, action):
    LessonFactory(course=course)
    client.force_login(other_creator)

    response = client.post(reverse(f"courses:{action}", args=[course.slug]))

    course.refresh_from_db()
    assert response.status_code == 404
    assert course.status == Course.Status.PUBLISHED


# --- Status ------------------------------------------------------------------------------------------


def test_publishing_without_lessons_shows_why_and_keeps_the_draft(client, creator):
    course = CourseFactory(creator=creator, status=Course.Status.DRAFT, published_at=None)
    client.force_login(creator)

    response = client.post(reverse("courses:studio_course_publish", args=[course.slug]), follow=True)

    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT
    assert "Add at least one lesson before publishing." in response.text


def test_publishing_a_draft_with_a_lesson(client, creator, draft_course):
    client.force_login(creator)

    client.post(reverse("courses:studio_course_publish", args=[draft_course.slug]))

    draft_course.refresh_from_db()
    assert draft_course.status == Course.Status.PUBLISHED


def test_publishing_needs_post(client, creator, draft_course):
    client.force_login(creator)

    response = client.get(reverse("courses:studio_course_publish", args=[draft_course.slug]))

    assert response.status_code == 405


def test_unpublishing_returns_to_draft(client, creator, course):
    client.force_login(creator)

    client.post(reverse("courses:studio_course_unpublish", args=[course.slug]))

    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT


def test_archiving(client, creator, course):
    client.force_login(creator)

    client.post(reverse("courses:studio_course_archive", args=[course.slug]))

    course.refresh_from_db()
    assert course.status == Course.Status.ARCHIVED


# --- Lessons -----------------------------------------------------------------------------------------


def test_a_lesson_without_a_title_is_refused_and_the_body_is_kept(client, creator, draft_course):
    client.force_login(creator)

    response = client.post(
        reverse("courses:studio_lesson_create", args=[draft_course.slug]), {"title": "", "body": "Typed body"}
    )

    assert response.context["form"].errors["title"]
    assert "Typed body" in response.text
    assert draft_course.lessons.count() == 1


def test_adding_a_preview_lesson_appends_it(client, creator, draft_course):
    client.force_login(creator)

    client.post(
        reverse("courses:studio_lesson_create", args=[draft_course.slug]),
        {"title": "Second", "body": "Body", "is_preview": "on"},
    )

    lesson = draft_course.lessons.get(title="Second")
    assert (lesson.position, lesson.is_preview) == (2, True)


def test_editing_a_lesson_can_unmark_the_preview(client, creator, draft_course):
    lesson = draft_course.lessons.get()
    client.force_login(creator)

    client.post(_lesson_url("studio_lesson_edit", lesson), {"title": "Renamed", "body": "New body"})

    lesson.refresh_from_db()
    assert (lesson.title, lesson.body, lesson.is_preview) == ("Renamed", "New body", False)


def test_deleting_a_lesson(client, creator, paid_course):
    client.force_login(creator)

    client.post(_lesson_url("studio_lesson_delete", paid_course.lessons.get(position=1)))

    assert list(paid_course.lessons.values_list("title", "position")) == [("Locked lesson", 1), ("Last lesson", 2)]


def test_moving_a_lesson_down(client, creator, paid_course):
    client.force_login(creator)

    client.post(_lesson_url("studio_lesson_move", paid_course.lessons.get(position=1)), {"direction": "down"})

    assert paid_course.lessons.get(position=2).title == "Preview lesson"


def test_an_unknown_move_direction_is_a_bad_request(client, creator, paid_course):
    client.force_login(creator)

    response = client.post(_lesson_url("studio_lesson_move", paid_course.lessons.get(position=1)), {"direction": "x"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("studio_lesson_edit", {"title": "Hijacked", "body": ""}),
        ("studio_lesson_delete", {}),
        ("studio_lesson_move", {"direction": "down"}),
    ],
)
def test_another_creators_lesson_is_404_and_unchanged(client, other_creator, paid_course, name, data):
    lesson = paid_course.lessons.get(position=1)
    client.force_login(other_creator)

    response = client.post(_lesson_url(name, lesson), data)

    assert response.status_code == 404
    assert Lesson.objects.filter(pk=lesson.pk, title="Preview lesson", position=1).exists()


def test_a_lesson_addressed_through_another_course_is_404(client, creator, paid_course, draft_course):
    client.force_login(creator)
    lesson = paid_course.lessons.get(position=1)

    response = client.get(reverse("courses:studio_lesson_edit", args=[draft_course.slug, lesson.pk]))

    assert response.status_code == 404


def test_a_cover_over_the_byte_limit_is_refused(client, creator, settings):
    settings.COURSE_COVER_MAX_BYTES = 50
    client.force_login(creator)

    response = client.post(NEW_COURSE, {**_course_form(), "cover": _png()})

    assert "The cover can be at most 50" in response.context["form"].errors["cover"][0]
    assert not Course.objects.exists()


def test_a_cover_over_the_pixel_limit_is_refused(client, creator, settings):
    settings.COURSE_COVER_MAX_PIXELS = 100 * 100
    client.force_login(creator)

    response = client.post(NEW_COURSE, {**_course_form(), "cover": _png((101, 100))})

    assert "at most 10,000 pixels; this one has 101 by 100" in response.context["form"].errors["cover"][0]
    assert not Course.objects.exists()


def test_a_replaced_cover_file_is_deleted(client, creator, django_capture_on_commit_callbacks):
    client.force_login(creator)
    client.post(NEW_COURSE, {**_course_form(), "cover": _png()})
    course = Course.objects.get()
    first = course.cover.name

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_edit_url(course), {**_course_form(slug=course.slug), "cover": _png((32, 18))})

    course.refresh_from_db()
    storage = course.cover.storage
    assert course.cover.name != first
    assert storage.exists(course.cover.name)
    assert not storage.exists(first)


def test_a_cleared_cover_file_is_deleted(client, creator, django_capture_on_commit_callbacks):
    client.force_login(creator)
    client.post(NEW_COURSE, {**_course_form(), "cover": _png()})
    course = Course.objects.get()
    first = course.cover.name

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_edit_url(course), {**_course_form(slug=course.slug), "cover-clear": "on"})

    assert not course.cover.storage.exists(first)


def test_an_uploaded_cover_is_served_from_media(client, creator):
    client.force_login(creator)
    client.post(NEW_COURSE, {**_course_form(), "cover": _png()})
    course = Course.objects.get()

    response = client.get(course.cover.url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_uploaded_files_are_not_served_by_the_web_process_unless_asked(client, creator, settings):
    client.force_login(creator)
    client.post(NEW_COURSE, {**_course_form(), "cover": _png()})
    settings.SERVE_MEDIA = False

    assert client.get(Course.objects.get().cover.url).status_code == 404
