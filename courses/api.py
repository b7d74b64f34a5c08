"""Course API: thin adapters over courses.selectors and courses.services, the same ones the pages use.

Prices are integer fen (`price_fen`); `price_display` is the same amount as people read it.
"""

from collections.abc import Callable

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import creator_display_name
from courses.models import Course, Enrollment, Lesson
from courses.selectors import (
    course_get_for_creator,
    course_get_visible,
    course_is_enrolled,
    course_list_for_creator,
    course_list_published,
    enrollment_list_active,
    lesson_get_for_creator,
    lesson_list_with_access,
)
from courses.services import (
    COURSE_PRICE_MAX_FEN,
    CourseData,
    LessonData,
    course_archive,
    course_create,
    course_publish,
    course_unpublish,
    course_update,
    enrollment_grant,
    lesson_create,
    lesson_delete,
    lesson_move,
    lesson_update,
)
from courses.validators import cover_image_validate
from knowpay.api import AsciiIntegerField
from knowpay.money import format_cny

# --- Serializers: one per shape, named uniquely so the OpenAPI components do not collide ----------


class CourseCardOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    creator_name = serializers.SerializerMethodField()
    cover = serializers.ImageField(allow_null=True)
    price_fen = serializers.IntegerField()
    price_display = serializers.SerializerMethodField()
    is_free = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)

    def get_creator_name(self, course: Course) -> str:
        return creator_display_name(user=course.creator)

    def get_price_display(self, course: Course) -> str:
        return format_cny(course.price_fen)


class LessonPublicOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    title = serializers.CharField()
    is_preview = serializers.BooleanField()
    readable = serializers.BooleanField()
    body = serializers.CharField(allow_null=True, help_text="Only for lessons the caller may read; null otherwise.")


class CourseDetailOutputSerializer(CourseCardOutputSerializer):
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=Course.Status.choices)
    is_enrolled = serializers.SerializerMethodField()
    lessons = serializers.SerializerMethodField()

    def get_is_enrolled(self, course: Course) -> bool:
        return self.context["is_enrolled"]

    @extend_schema_field(LessonPublicOutputSerializer(many=True))
    def get_lessons(self, course: Course) -> list[dict]:
        lessons = [
            {
                "position": lesson.position,
                "title": lesson.title,
                "is_preview": lesson.is_preview,
                "readable": readable,
                "body": lesson.body if readable else None,
            }
            for lesson, readable in self.context["lessons"]
        ]
        return LessonPublicOutputSerializer(lessons, many=True).data


class EnrollmentOutputSerializer(serializers.Serializer):
    course = CourseCardOutputSerializer()
    source = serializers.ChoiceField(choices=Enrollment.Source.choices)
    granted_at = serializers.DateTimeField()


class StudioCourseInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=220, allow_unicode=True, required=False, allow_blank=True, help_text="Blank: made from the title."
    )
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    cover = serializers.ImageField(
        required=False,
        allow_null=True,
        validators=[cover_image_validate],
        help_text="Multipart upload; null removes it.",
    )
    price_fen = AsciiIntegerField(
        min_value=0, max_value=COURSE_PRICE_MAX_FEN, help_text="0 makes it free. ASCII digits only."
    )


class StudioLessonOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    is_preview = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class StudioCourseOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    description = serializers.CharField()
    cover = serializers.ImageField(allow_null=True)
    price_fen = serializers.IntegerField()
    price_display = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Course.Status.choices)
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_price_display(self, course: Course) -> str:
        return format_cny(course.price_fen)


class StudioCourseDetailOutputSerializer(StudioCourseOutputSerializer):
    lessons = serializers.SerializerMethodField()

    @extend_schema_field(StudioLessonOutputSerializer(many=True))
    def get_lessons(self, course: Course) -> list[dict]:
        return StudioLessonOutputSerializer(course.lessons.order_by("position"), many=True).data


class StudioLessonInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True)
    is_preview = serializers.BooleanField(required=False)


class StudioLessonMoveInputSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["up", "down"])


# --- Learner endpoints ----------------------------------------------------------------------------


class CatalogQueryInputSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CatalogPagination(PageNumberPagination):
    page_size = 12


def _visible_course_or_404(request: Request, slug: str) -> Course:
    course = course_get_visible(slug=slug, user=request.user)
    if course is None:
        raise Http404("No such course.")
    return course


class CourseListApi(ListAPIView):
    permission_classes = [permissions.AllowAny]
    pagination_class = CatalogPagination
    serializer_class = CourseCardOutputSerializer

    def get_queryset(self):
        # DRF's CharField refuses NUL bytes and trims; an invalid search is a 400, not a database error.
        params = CatalogQueryInputSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return course_list_published(query=params.validated_data.get("q", ""))

    @extend_schema(
        operation_id="courses_list",
        parameters=[OpenApiParameter("q", str, description="Only courses whose title contains this.")],
        tags=["courses"],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        """The catalog: published courses, newest first. Open to anonymous visitors."""
        return super().get(request, *args, **kwargs)


class CourseDetailApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(operation_id="courses_retrieve", responses=CourseDetailOutputSerializer, tags=["courses"])
    def get(self, request: Request, slug: str) -> Response:
        """A course with its lessons in order; lesson bodies only where the caller may read them."""
        course = _visible_course_or_404(request, slug)
        context = {
            "request": request,
            "lessons": lesson_list_with_access(course=course, user=request.user),
            "is_enrolled": course_is_enrolled(learner=request.user, course=course),
        }
        return Response(CourseDetailOutputSerializer(course, context=context).data)


class CourseEnrollApi(APIView):
    @extend_schema(operation_id="courses_enroll", request=None, responses=EnrollmentOutputSerializer, tags=["courses"])
    def post(self, request: Request, slug: str) -> Response:
        """Join a free course; joining twice changes nothing. A paid course answers 400 "not_free"."""
        course = _visible_course_or_404(request, slug)
        enrollment = enrollment_grant(learner=request.user, course=course, source=Enrollment.Source.FREE)
        return Response(EnrollmentOutputSerializer(enrollment, context={"request": request}).data)


class EnrollmentListApi(ListAPIView):
    serializer_class = EnrollmentOutputSerializer

    def get_queryset(self):
        return enrollment_list_active(learner=self.request.user)

    @extend_schema(operation_id="enrollments_list", tags=["courses"])
    def get(self, request: Request, *args, **kwargs) -> Response:
        """My learning: the courses the caller has access to."""
        return super().get(request, *args, **kwargs)


# --- Creator studio -------------------------------------------------------------------------------


class IsCreator(permissions.BasePermission):
    message = "Only creators can use the studio."

    def has_permission(self, request: Request, view) -> bool:
        return request.user.is_authenticated and request.user.is_creator


def _own_course_or_404(request: Request, slug: str) -> Course:
    course = course_get_for_creator(creator=request.user, slug=slug)
    if course is None:
        raise Http404("No such course in your studio.")
    return course


def _own_lesson_or_404(request: Request, slug: str, lesson_id: int) -> Lesson:
    lesson = lesson_get_for_creator(creator=request.user, course_slug=slug, lesson_id=lesson_id)
    if lesson is None:
        raise Http404("No such lesson in your studio.")
    return lesson


class StudioCourseListApi(ListAPIView):
    permission_classes = [IsCreator]
    serializer_class = StudioCourseOutputSerializer

    def get_queryset(self):
        return course_list_for_creator(creator=self.request.user)

    @extend_schema(operation_id="studio_courses_list", tags=["studio"])
    def get(self, request: Request, *args, **kwargs) -> Response:
        """The caller's own courses in every status."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="studio_courses_create",
        request=StudioCourseInputSerializer,
        responses={201: StudioCourseDetailOutputSerializer},
        tags=["studio"],
    )
    def post(self, request: Request) -> Response:
        """Create a draft course."""
        serializer = StudioCourseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = course_create(creator=request.user, **serializer.validated_data)
        return Response(
            StudioCourseDetailOutputSerializer(course, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class StudioCourseDetailApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(
        operation_id="studio_courses_retrieve", responses=StudioCourseDetailOutputSerializer, tags=["studio"]
    )
    def get(self, request: Request, slug: str) -> Response:
        course = _own_course_or_404(request, slug)
        return Response(StudioCourseDetailOutputSerializer(course, context={"request": request}).data)

    @extend_schema(
        operation_id="studio_courses_partial_update",
        request=StudioCourseInputSerializer(partial=True),
        responses=StudioCourseDetailOutputSerializer,
        tags=["studio"],
    )
    def patch(self, request: Request, slug: str) -> Response:
        """Change some fields of one of the caller's courses; another creator's course is 404."""
        course = _own_course_or_404(request, slug)
        serializer = StudioCourseInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        course = course_update(course=course, data=CourseData(**serializer.validated_data))
        return Response(StudioCourseDetailOutputSerializer(course, context={"request": request}).data)


def _status_change(request: Request, slug: str, service: Callable[..., Course]) -> Response:
    course = service(course=_own_course_or_404(request, slug))
    return Response(StudioCourseDetailOutputSerializer(course, context={"request": request}).data)


class StudioCoursePublishApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(
        operation_id="studio_courses_publish",
        request=None,
        responses=StudioCourseDetailOutputSerializer,
        tags=["studio"],
    )
    def post(self, request: Request, slug: str) -> Response:
        """Put the course in the catalog; one without lessons answers 400 "no_lessons"."""
        return _status_change(request, slug, course_publish)


class StudioCourseUnpublishApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(
        operation_id="studio_courses_unpublish",
        request=None,
        responses=StudioCourseDetailOutputSerializer,
        tags=["studio"],
    )
    def post(self, request: Request, slug: str) -> Response:
        """Take a published course back to draft; enrolled learners keep access."""
        return _status_change(request, slug, course_unpublish)


class StudioCourseArchiveApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(
        operation_id="studio_courses_archive",
        request=None,
        responses=StudioCourseDetailOutputSerializer,
        tags=["studio"],
    )
    def post(self, request: Request, slug: str) -> Response:
        """Stop selling the course; enrolled learners keep access."""
        return _status_change(request, slug, course_archive)


class StudioLessonListApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(
        operation_id="studio_lessons_list", responses=StudioLessonOutputSerializer(many=True), tags=["studio"]
    )
    def get(self, request: Request, slug: str) -> Response:
        course = _own_course_or_404(request, slug)
        return Response(StudioLessonOutputSerializer(course.lessons.order_by("position"), many=True).data)

    @extend_schema(
        operation_id="studio_lessons_create",
        request=StudioLessonInputSerializer,
        responses={201: StudioLessonOutputSerializer},
        tags=["studio"],
    )
    def post(self, request: Request, slug: str) -> Response:
        """Append a lesson at the end of the course."""
        course = _own_course_or_404(request, slug)
        serializer = StudioLessonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lesson = lesson_create(course=course, **serializer.validated_data)
        return Response(StudioLessonOutputSerializer(lesson).data, status=status.HTTP_201_CREATED)


class StudioLessonDetailApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(operation_id="studio_lessons_retrieve", responses=StudioLessonOutputSerializer, tags=["studio"])
    def get(self, request: Request, slug: str, lesson_id: int) -> Response:
        return Response(StudioLessonOutputSerializer(_own_lesson_or_404(request, slug, lesson_id)).data)

    @extend_schema(
        operation_id="studio_lessons_partial_update",
        request=StudioLessonInputSerializer(partial=True),
        responses=StudioLessonOutputSerializer,
        tags=["studio"],
    )
    def patch(self, request: Request, slug: str, lesson_id: int) -> Response:
        lesson = _own_lesson_or_404(request, slug, lesson_id)
        serializer = StudioLessonInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        lesson = lesson_update(lesson=lesson, data=LessonData(**serializer.validated_data))
        return Response(StudioLessonOutputSerializer(lesson).data)

    @extend_schema(operation_id="studio_lessons_destroy", responses={204: None}, tags=["studio"])
    def delete(self, request: Request, slug: str, lesson_id: int) -> Response:
        """Delete a lesson; the ones after it move up. The last lesson of a published course is refused."""
        lesson_delete(lesson=_own_lesson_or_404(request, slug, lesson_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudioLessonMoveApi(APIView):
    permission_classes = [IsCreator]

    @extend_schema(
        operation_id="studio_lessons_move",
        request=StudioLessonMoveInputSerializer,
        responses=StudioLessonOutputSerializer(many=True),
        tags=["studio"],
    )
    def post(self, request: Request, slug: str, lesson_id: int) -> Response:
        """Swap a lesson with its neighbour; answers the course's lessons in their new order."""
        lesson = _own_lesson_or_404(request, slug, lesson_id)
        serializer = StudioLessonMoveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lesson_move(lesson=lesson, direction=serializer.validated_data["direction"])
        return Response(StudioLessonOutputSerializer(lesson.course.lessons.order_by("position"), many=True).data)
