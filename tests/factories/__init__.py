from tests.factories.accounts import CreatorFactory, UserFactory
from tests.factories.courses import CourseFactory, EnrollmentFactory, LessonFactory

__all__ = ["CourseFactory", "CreatorFactory", "EnrollmentFactory", "LessonFactory", "UserFactory"]
