"""The creator studio: thin adapters over courses.selectors and courses.services.

Every course and lesson is looked up among the signed-in creator's own, so another creator's is a 404.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from courses.forms import CourseForm, LessonForm
from courses.models import Course, Lesson
from courses.selectors import course_get_for_creator, course_list_for_creator, lesson_get_for_creator
from courses.services import (
    CourseData,
    course_archive,
    course_create,
    course_publish,
    course_unpublish,
    course_update,
    lesson_create,
    lesson_delete,
    lesson_move,
    lesson_update,
)
from knowpay.api import ServiceError


def creator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_creator:
            messages.info(request, "The studio is for creators. Become one here to sell your courses.")
            return redirect("accounts:profile")
        return view(request, *args, **kwargs)

    return wrapper


def _own_course_or_404(request: HttpRequest, slug: str) -> Course:
    course = course_get_for_creator(creator=request.user, slug=slug)
    if course is None:
        raise Http404("No such course in your studio.")
    return course


def _own_lesson_or_404(request: HttpRequest, slug: str, lesson_id: int) -> Lesson:
    lesson = lesson_get_for_creator(creator=request.user, course_slug=slug, lesson_id=lesson_id)
    if lesson is None:
        raise Http404("No such lesson in your studio.")
    return lesson


def _form_error(form, error: ServiceError) -> None:
    # A refused slug belongs next to the slug field; other refusals concern the whole form.
    form.add_error("slug" if error.code == "slug_taken" else None, error.message)


@creator_required
def studio(request: HttpRequest) -> HttpResponse:
    return render(
        request, "courses/studio/course_list.html", {"courses": course_list_for_creator(creator=request.user)}
    )


@creator_required
@require_http_methods(["GET", "POST"])
def studio_course_create(request: HttpRequest) -> HttpResponse:
    form = CourseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            course = course_create(
                creator=request.user,
                title=data["title"],
                slug=data["slug"],
                summary=data["summary"],
                description=data["description"],
                cover=data["cover"],
                price_fen=data["price_yuan"],
            )
        except ServiceError as error:
            _form_error(form, error)
        else:
            messages.success(request, "Course created as a draft. Add lessons, then publish it.")
            return redirect("courses:studio_course_edit", slug=course.slug)
    return render(request, "courses/studio/course_form.html", {"form": form})


@creator_required
@require_http_methods(["GET", "POST"])
def studio_course_edit(request: HttpRequest, slug: str) -> HttpResponse:
    course = _own_course_or_404(request, slug)
    initial = {
        "title": course.title,
        "slug": course.slug,
        "summary": course.summary,
        "description": course.description,
        "cover": course.cover,
        "price_yuan": course.price_fen,
    }
    form = CourseForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        data = CourseData(
            title=cleaned["title"],
            slug=cleaned["slug"],
            summary=cleaned["summary"],
            description=cleaned["description"],
            price_fen=cleaned["price_yuan"],
        )
        # The image field gives back False when "clear" is ticked, an upload when a new file came,
        # and the current file otherwise.
        if cleaned["cover"] is False:
            data["cover"] = None
        elif isinstance(cleaned["cover"], UploadedFile):
            data["cover"] = cleaned["cover"]
        try:
            course = course_update(course=course, data=data)
        except ServiceError as error:
            _form_error(form, error)
        else:
            messages.success(request, "Course saved.")
            return redirect("courses:studio_course_edit", slug=course.slug)
    context = {"course": course, "form": form, "lessons": course.lessons.order_by("position")}
    return render(request, "courses/studio/course_form.html", context)


def _status_change(request: HttpRequest, slug: str, service, success: str) -> HttpResponse:
    course = _own_course_or_404(request, slug)
    try:
        course = service(course=course)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("courses:studio_course_edit", slug=course.slug)


@creator_required
@require_POST
def studio_course_publish(request: HttpRequest, slug: str) -> HttpResponse:
    return _status_change(request, slug, course_publish, "Published: the course is in the catalog.")


@creator_required
@require_POST
def studio_course_unpublish(request: HttpRequest, slug: str) -> HttpResponse:
    return _status_change(request, slug, course_unpublish, "Unpublished: the course is a draft again.")


@creator_required
@require_POST
def studio_course_archive(request: HttpRequest, slug: str) -> HttpResponse:
    return _status_change(request, slug, course_archive, "Archived: no longer sold; enrolled learners keep access.")


@creator_required
@require_http_methods(["GET", "POST"])
def studio_lesson_create(request: HttpRequest, slug: str) -> HttpResponse:
    course = _own_course_or_404(request, slug)
    form = LessonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lesson_create(course=course, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Lesson added.")
            return redirect("courses:studio_course_edit", slug=course.slug)
    return render(request, "courses/studio/lesson_form.html", {"course": course, "form": form})


@creator_required
@require_http_methods(["GET", "POST"])
def studio_lesson_edit(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    lesson = _own_lesson_or_404(request, slug, lesson_id)
    initial = {"title": lesson.title, "body": lesson.body, "is_preview": lesson.is_preview}
    form = LessonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            lesson_update(lesson=lesson, data=form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Lesson saved.")
            return redirect("courses:studio_course_edit", slug=lesson.course.slug)
    return render(request, "courses/studio/lesson_form.html", {"course": lesson.course, "lesson": lesson, "form": form})


@creator_required
@require_POST
def studio_lesson_delete(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    lesson = _own_lesson_or_404(request, slug, lesson_id)
    try:
        lesson_delete(lesson=lesson)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Lesson “{lesson.title}” deleted.")
    return redirect("courses:studio_course_edit", slug=lesson.course.slug)


@creator_required
@require_POST
def studio_lesson_move(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    lesson = _own_lesson_or_404(request, slug, lesson_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponseBadRequest("direction must be up or down")
    lesson_move(lesson=lesson, direction=direction)
    return redirect("courses:studio_course_edit", slug=lesson.course.slug)
