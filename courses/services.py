"""Course business logic. Enrollment functions are the only way access is granted or taken away."""

from typing import Literal, TypedDict

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import CreatorProfile, User
from courses.models import Course, Enrollment, Lesson
from knowpay.api import ServiceError
from knowpay.money import format_cny

# ¥100,000.00: far above any course price, far below the 32-bit column limit.
COURSE_PRICE_MAX_FEN = 10_000_000
_SLUG_MAX_LENGTH = Course._meta.get_field("slug").max_length
# Room left at the end of a generated slug for a "-<number>" suffix.
_SLUG_SUFFIX_ROOM = 8


class EnrollmentError(ServiceError):
    """A learner cannot be enrolled this way; the message is fit to show them."""


class CourseError(ServiceError):
    """A course or lesson change was refused; the message is fit to show the creator."""


class CourseData(TypedDict, total=False):
    """The editable fields of a course; a missing key leaves the field as it is. A None cover removes it."""

    title: str
    slug: str
    summary: str
    description: str
    cover: File | None
    price_fen: int


class LessonData(TypedDict, total=False):
    title: str
    body: str
    is_preview: bool


@transaction.atomic
def enrollment_grant(*, learner: User, course: Course, source: str, reference: str = "") -> Enrollment:
    """Give `learner` access to `course`; idempotent, and re-activates a revoked enrollment.

    Raises:
        EnrollmentError: a free enrollment of a course that is not free or not published.
    """
    if source == Enrollment.Source.FREE and (not course.is_free or not course.is_published):
        raise EnrollmentError("Only published free courses can be joined without paying.", code="not_free")
    enrollment, created = Enrollment.objects.select_for_update().get_or_create(
        learner=learner,
        course=course,
        defaults={"source": source, "reference": reference, "granted_at": timezone.now()},
    )
    if not created and not enrollment.is_active:
        enrollment.source = source
        enrollment.reference = reference
        enrollment.granted_at = timezone.now()
        enrollment.revoked_at = None
        enrollment.revoked_reason = ""
        enrollment.save(update_fields=["source", "reference", "granted_at", "revoked_at", "revoked_reason"])
    return enrollment


@transaction.atomic
def enrollment_revoke(*, learner: User, course: Course, reason: str) -> Enrollment | None:
    """Take access away (a full refund); the row stays as history. Returns None if never enrolled."""
    enrollment = Enrollment.objects.select_for_update().filter(learner=learner, course=course).first()
    if enrollment is None or not enrollment.is_active:
        return enrollment
    enrollment.revoked_at = timezone.now()
    enrollment.revoked_reason = reason[:200]
    enrollment.save(update_fields=["revoked_at", "revoked_reason"])
    return enrollment


def _price_check(price_fen: int) -> None:
    if isinstance(price_fen, bool) or not isinstance(price_fen, int):
        raise TypeError(f"price_fen must be an int, not {type(price_fen).__name__}")
    if price_fen < 0:
        raise CourseError("The price cannot be negative.", code="price_negative")
    if price_fen > COURSE_PRICE_MAX_FEN:
        raise CourseError(f"The price can be at most {format_cny(COURSE_PRICE_MAX_FEN)}.", code="price_too_high")


def _title_check(title: str) -> str:
    title = title.strip()
    if not title:
        raise CourseError("Give the course a title.", code="title_required")
    return title


def _slug_generate(*, title: str, exclude_pk: int | None) -> str:
    """A free slug from the title, Chinese included: "Python 数据分析" -> "python-数据分析", then "-2", "-3"..."""
    base = slugify(title, allow_unicode=True)[: _SLUG_MAX_LENGTH - _SLUG_SUFFIX_ROOM].strip("-_") or "course"
    taken = set(Course.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True))
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def _slug_resolve(*, requested: str, title: str, exclude_pk: int | None) -> str:
    """The slug the creator asked for if it is free, or one made from the title when they left it blank."""
    if not requested:
        return _slug_generate(title=title, exclude_pk=exclude_pk)
    if Course.objects.filter(slug=requested).exclude(pk=exclude_pk).exists():
        raise CourseError(f"The address “{requested}” is already used by another course.", code="slug_taken")
    return requested


def _course_save(course: Course, **save_kwargs) -> None:
    try:
        # A savepoint, so the transaction can still be queried on PostgreSQL after a refused write.
        with transaction.atomic():
            course.save(**save_kwargs)
    except IntegrityError as exc:
        if not Course.objects.filter(slug=course.slug).exclude(pk=course.pk).exists():
            raise
        # Another course took the same slug between our check and this write.
        raise CourseError("That course address was just taken; please try again.", code="slug_taken") from exc


def _course_lock(course: Course) -> Course:
    """The course row, locked until the transaction ends, so lesson positions and status change one at a time."""
    return Course.objects.select_for_update().get(pk=course.pk)


@transaction.atomic
def course_create(
    *,
    creator: User,
    title: str,
    price_fen: int,
    slug: str = "",
    summary: str = "",
    description: str = "",
    cover: File | None = None,
) -> Course:
    """Create a draft course owned by `creator`.

    Raises:
        CourseError: the user is not a creator, the title is blank, the price is out of range, or the
            requested slug is taken.
    """
    if not CreatorProfile.objects.filter(user=creator).exists():
        raise CourseError("Only creators can create courses.", code="not_creator")
    title = _title_check(title)
    _price_check(price_fen)
    course = Course(
        creator=creator,
        title=title,
        slug=_slug_resolve(requested=slug, title=title, exclude_pk=None),
        summary=summary,
        description=description,
        price_fen=price_fen,
        status=Course.Status.DRAFT,
    )
    if cover:
        course.cover = cover
    _course_save(course)
    return course


@transaction.atomic
def course_update(*, course: Course, data: CourseData) -> Course:
    """Change the fields present in `data`; a blank slug is made again from the title.

    Raises:
        CourseError: a blank title, a price out of range, or a slug taken by another course.
    """
    course = _course_lock(course)
    changed = []
    if "title" in data:
        course.title = _title_check(data["title"])
        changed.append("title")
    if "slug" in data:
        course.slug = _slug_resolve(requested=data["slug"], title=course.title, exclude_pk=course.pk)
        changed.append("slug")
    for field in ("summary", "description"):
        if field in data:
            setattr(course, field, data[field])
            changed.append(field)
    if "price_fen" in data:
        _price_check(data["price_fen"])
        course.price_fen = data["price_fen"]
        changed.append("price_fen")
    replaced_cover = ""
    if "cover" in data:
        replaced_cover = course.cover.name
        course.cover = data["cover"] or ""
        changed.append("cover")
    _course_save(course, update_fields=[*changed, "updated_at"])
    if replaced_cover and replaced_cover != course.cover.name:
        course_cover_file_discard(name=replaced_cover)
    return course


def course_cover_file_discard(*, name: str) -> None:
    """Delete a cover file no course shows any more, once the change that replaced it has committed."""
    storage = Course._meta.get_field("cover").storage
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def course_publish(*, course: Course) -> Course:
    """Put a draft or archived course in the catalog; publishing a published course changes nothing.

    Raises:
        CourseError: the course has no lesson yet.
    """
    course = _course_lock(course)
    if course.is_published:
        return course
    if not course.lessons.exists():
        raise CourseError("Add at least one lesson before publishing.", code="no_lessons")
    course.status = Course.Status.PUBLISHED
    # The first publication date stays, so republishing does not push a course to the top of the catalog.
    course.published_at = course.published_at or timezone.now()
    course.save(update_fields=["status", "published_at", "updated_at"])
    return course


@transaction.atomic
def course_unpublish(*, course: Course) -> Course:
    """Take a published course out of the catalog, back to draft. Enrolled learners keep their access.

    Raises:
        CourseError: the course is not published.
    """
    course = _course_lock(course)
    if not course.is_published:
        raise CourseError("Only a published course can be unpublished.", code="not_published")
    course.status = Course.Status.DRAFT
    course.save(update_fields=["status", "updated_at"])
    return course


@transaction.atomic
def course_archive(*, course: Course) -> Course:
    """Stop offering a course for good (it can be published again); enrolled learners keep their access."""
    course = _course_lock(course)
    if course.status != Course.Status.ARCHIVED:
        course.status = Course.Status.ARCHIVED
        course.save(update_fields=["status", "updated_at"])
    return course


@transaction.atomic
def lesson_create(*, course: Course, title: str, body: str = "", is_preview: bool = False) -> Lesson:
    """Append a lesson at the end of the course.

    Raises:
        CourseError: the title is blank.
    """
    title = title.strip()
    if not title:
        raise CourseError("Give the lesson a title.", code="title_required")
    course = _course_lock(course)
    last_position = course.lessons.aggregate(last=Max("position"))["last"] or 0
    return Lesson.objects.create(
        course=course, position=last_position + 1, title=title, body=body, is_preview=is_preview
    )


@transaction.atomic
def lesson_update(*, lesson: Lesson, data: LessonData) -> Lesson:
    """Change the fields present in `data`.

    Raises:
        CourseError: a blank title.
    """
    changed = []
    if "title" in data:
        title = data["title"].strip()
        if not title:
            raise CourseError("Give the lesson a title.", code="title_required")
        lesson.title = title
        changed.append("title")
    for field in ("body", "is_preview"):
        if field in data:
            setattr(lesson, field, data[field])
            changed.append(field)
    lesson.save(update_fields=[*changed, "updated_at"])
    return lesson


@transaction.atomic
def lesson_delete(*, lesson: Lesson) -> None:
    """Delete a lesson and close the gap, so positions stay 1, 2, 3...

    Raises:
        CourseError: it is the only lesson of a published course.
    """
    course = _course_lock(lesson.course)
    if course.is_published and course.lessons.count() == 1:
        raise CourseError(
            "A published course needs at least one lesson; unpublish it before deleting this one.",
            code="last_lesson",
        )
    position = Lesson.objects.filter(pk=lesson.pk).values_list("position", flat=True).first()
    if position is None:
        return  # a double-submitted delete: the first one removed it
    Lesson.objects.filter(pk=lesson.pk).delete()
    # One row at a time, lowest first: each moves into a free slot, so the unique (course, position)
    # constraint holds after every statement (PostgreSQL checks it per row, not per statement).
    for following in course.lessons.filter(position__gt=position).order_by("position"):
        following.position -= 1
        following.save(update_fields=["position", "updated_at"])


@transaction.atomic
def lesson_move(*, lesson: Lesson, direction: Literal["up", "down"]) -> Lesson:
    """Swap a lesson with its neighbour above or below; at either end nothing changes."""
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
    course = _course_lock(lesson.course)
    lesson = Lesson.objects.get(pk=lesson.pk)
    siblings = course.lessons.exclude(pk=lesson.pk)
    if direction == "up":
        neighbour = siblings.filter(position__lt=lesson.position).order_by("-position").first()
    else:
        neighbour = siblings.filter(position__gt=lesson.position).order_by("position").first()
    if neighbour is None:
        return lesson
    # Park the lesson on a free position first: the unique constraint forbids two lessons on one position.
    parking = course.lessons.aggregate(last=Max("position"))["last"] + 1
    old_position, lesson.position = lesson.position, parking
    lesson.save(update_fields=["position"])
    neighbour.position, lesson.position = old_position, neighbour.position
    neighbour.save(update_fields=["position", "updated_at"])
    lesson.save(update_fields=["position", "updated_at"])
    return lesson
