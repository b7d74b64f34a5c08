"""Course business logic. Enrollment functions are the only way access is granted or taken away."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from courses.models import Course, Enrollment
from knowpay.api import ServiceError


class EnrollmentError(ServiceError):
    """A learner cannot be enrolled this way; the message is fit to show them."""


@transaction.atomic
def enrollment_grant(*, learner: User, course: Course, source: str, reference: str = "") -> Enrollment:
    """Give `learner` access to `course`; idempotent, and re-activates a revoked enrollment.

    Raises:
        EnrollmentError: a free enrollment of a course that is not free or not published.
    """
    if source == Enrollment.Source.FREE and (not course.is_free or not course.is_published):
        raise EnrollmentError("Only published free courses can be joined without paying.")
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
