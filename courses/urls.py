from django.urls import path

from courses import converters, studio_views, views  # noqa: F401 (converters registers <uslug:...>)

app_name = "courses"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("courses/<uslug:slug>/", views.course_detail, name="course_detail"),
    path("courses/<uslug:slug>/enroll/", views.enroll_free, name="enroll_free"),
    path("courses/<uslug:slug>/lessons/<int:position>/", views.lesson_detail, name="lesson_detail"),
    path("learning/", views.my_learning, name="my_learning"),
    path("studio/", studio_views.studio, name="studio"),
    path("studio/new/", studio_views.studio_course_create, name="studio_course_create"),
    path("studio/courses/<uslug:slug>/", studio_views.studio_course_edit, name="studio_course_edit"),
    path("studio/courses/<uslug:slug>/publish/", studio_views.studio_course_publish, name="studio_course_publish"),
    path(
        "studio/courses/<uslug:slug>/unpublish/", studio_views.studio_course_unpublish, name="studio_course_unpublish"
    ),
    path("studio/courses/<uslug:slug>/archive/", studio_views.studio_course_archive, name="studio_course_archive"),
    path("studio/courses/<uslug:slug>/lessons/new/", studio_views.studio_lesson_create, name="studio_lesson_create"),
    path(
        "studio/courses/<uslug:slug>/lessons/<int:lesson_id>/",
        studio_views.studio_lesson_edit,
        name="studio_lesson_edit",
    ),
    path(
        "studio/courses/<uslug:slug>/lessons/<int:lesson_id>/delete/",
        studio_views.studio_lesson_delete,
        name="studio_lesson_delete",
    ),
    path(
        "studio/courses/<uslug:slug>/lessons/<int:lesson_id>/move/",
        studio_views.studio_lesson_move,
        name="studio_lesson_move",
    ),
]
