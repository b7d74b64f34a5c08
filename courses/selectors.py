"""Course reads for pages, the API and payments, written once."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet

from accounts.models import User
from courses.models import Course, Enrollment, Lesson


def course_is_enrolled(*, learner: User, course: Course) -> bool:
    if not learner.is_authenticated:
        return False
    return Enrollment.objects.filter(learner=learner, course=course, revoked_at__isnull=True).exists()


def course_has_full_access(*, user: User | AnonymousUser, course: Course) -> bool:
    """Every lesson is open to enrolled learners, the course's creator and staff who may view lessons.

    The staff flag alone opens nothing: reviewing content is the `courses.view_lesson` permission.
    """
    if not user.is_authenticated:
        return False
    if course.creator_id == user.id or user.has_perm("courses.view_lesson"):
        return True
    return course_is_enrolled(learner=user, course=course)


def course_can_read_lesson(*, user: User, lesson: Lesson) -> bool:
    """Preview lessons are for anyone; the rest for enrolled learners, the course's creator and staff."""
    if lesson.is_preview:
        return True
    return course_has_full_access(user=user, course=lesson.course)


def course_get_purchasable(*, course_id: int) -> Course | None:
    """A course that can be bought right now: published and not free."""
    return Course.objects.filter(pk=course_id, status=Course.Status.PUBLISHED, price_fen__gt=0).first()


def enrollment_list_active(*, learner: User) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(learner=learner, revoked_at__isnull=True)
        .select_related("course", "course__creator__creator_profile")
        .order_by("-granted_at")
    )


def course_list_published(*, query: str = "") -> QuerySet[Course]:
    """The catalog, newest first; `query` narrows it to titles containing it."""
    courses = Course.objects.filter(status=Course.Status.PUBLISHED).select_related("creator__creator_profile")
    if query:
        courses = courses.filter(title__icontains=query)
    return courses.order_by("-published_at", "-id")


def course_get_visible(*, slug: str, user: User | AnonymousUser) -> Course | None:
    """A course `user` may look at, or None.

    Published courses are public. Drafts and archived courses stay visible to their creator, staff who
    may view lessons and the learners enrolled in them: archiving stops sales, it does not take away
    what people paid for.
    """
    course = Course.objects.select_related("creator__creator_profile").filter(slug=slug).first()
    if course is None:
        return None
    if course.is_published or course_has_full_access(user=user, course=course):
        return course
    return None


def lesson_list_with_access(*, course: Course, user: User | AnonymousUser) -> list[tuple[Lesson, bool]]:
    """The course's lessons in order, each with whether `user` may read it (one access check, not one per lesson)."""
    full_access = course_has_full_access(user=user, course=course)
    return [(lesson, full_access or lesson.is_preview) for lesson in course.lessons.order_by("position")]


def lesson_get(*, course: Course, position: int) -> Lesson | None:
    lesson = Lesson.objects.filter(course=course, position=position).first()
    if lesson is not None:
        lesson.course = course  # spares a query when access is checked
    return lesson


def lesson_get_first(*, course: Course) -> Lesson | None:
    return course.lessons.order_by("position").first()


def lesson_get_neighbours(*, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    """The lessons just before and just after `lesson` in its course."""
    siblings = Lesson.objects.filter(course_id=lesson.course_id).only("id", "course_id", "position", "title")
    previous = siblings.filter(position__lt=lesson.position).order_by("-position").first()
    following = siblings.filter(position__gt=lesson.position).order_by("position").first()
    return previous, following


def course_list_for_creator(*, creator: User) -> QuerySet[Course]:
    """A creator's own courses in every status, most recently changed first, with their lesson counts."""
    return Course.objects.filter(creator=creator).annotate(lesson_count=Count("lessons")).order_by("-updated_at", "-id")


def course_get_for_creator(*, creator: User, slug: str) -> Course | None:
    """One of `creator`'s own courses; another creator's course is None, exactly like a missing one."""
    return Course.objects.filter(creator=creator, slug=slug).first()


def lesson_get_for_creator(*, creator: User, course_slug: str, lesson_id: int) -> Lesson | None:
    return (
        Lesson.objects.select_related("course")
        .filter(pk=lesson_id, course__slug=course_slug, course__creator=creator)
        .first()
    )
