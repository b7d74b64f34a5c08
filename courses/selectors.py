"""Course reads for pages, the API and payments, written once."""

from django.db.models import QuerySet

from accounts.models import User
from courses.models import Course, Enrollment, Lesson


def course_is_enrolled(*, learner: User, course: Course) -> bool:
    if not learner.is_authenticated:
        return False
    return Enrollment.objects.filter(learner=learner, course=course, revoked_at__isnull=True).exists()


def course_can_read_lesson(*, user: User, lesson: Lesson) -> bool:
    """Preview lessons are for anyone; the rest for enrolled learners, the course's creator and staff."""
    if lesson.is_preview:
        return True
    if not user.is_authenticated:
        return False
    if user.is_staff or lesson.course.creator_id == user.id:
        return True
    return course_is_enrolled(learner=user, course=lesson.course)


def course_get_purchasable(*, course_id: int) -> Course | None:
    """A course that can be bought right now: published and not free."""
    return Course.objects.filter(pk=course_id, status=Course.Status.PUBLISHED, price_fen__gt=0).first()


def enrollment_list_active(*, learner: User) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(learner=learner, revoked_at__isnull=True)
        .select_related("course", "course__creator__creator_profile")
        .order_by("-granted_at")
    )
