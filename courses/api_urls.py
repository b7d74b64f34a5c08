from django.urls import path

from courses import api, converters  # noqa: F401 (converters registers <uslug:...>)

# Included by knowpay.urls inside the "api" namespace: reverse("api:course-list").
urlpatterns = [
    path("courses/", api.CourseListApi.as_view(), name="course-list"),
    path("courses/<uslug:slug>/", api.CourseDetailApi.as_view(), name="course-detail"),
    path("courses/<uslug:slug>/enroll/", api.CourseEnrollApi.as_view(), name="course-enroll"),
    path("enrollments/", api.EnrollmentListApi.as_view(), name="enrollment-list"),
    path("studio/courses/", api.StudioCourseListApi.as_view(), name="studio-course-list"),
    path("studio/courses/<uslug:slug>/", api.StudioCourseDetailApi.as_view(), name="studio-course-detail"),
    path("studio/courses/<uslug:slug>/publish/", api.StudioCoursePublishApi.as_view(), name="studio-course-publish"),
    path(
        "studio/courses/<uslug:slug>/unpublish/", api.StudioCourseUnpublishApi.as_view(), name="studio-course-unpublish"
    ),
    path("studio/courses/<uslug:slug>/archive/", api.StudioCourseArchiveApi.as_view(), name="studio-course-archive"),
    path("studio/courses/<uslug:slug>/lessons/", api.StudioLessonListApi.as_view(), name="studio-lesson-list"),
    path(
        "studio/courses/<uslug:slug>/lessons/<int:lesson_id>/",
        api.StudioLessonDetailApi.as_view(),
        name="studio-lesson-detail",
    ),
    path(
        "studio/courses/<uslug:slug>/lessons/<int:lesson_id>/move/",
        api.StudioLessonMoveApi.as_view(),
        name="studio-lesson-move",
    ),
]
