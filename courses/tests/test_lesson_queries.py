"""The lesson page costs the same number of queries for a 2-lesson and a 100-lesson course."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Course, Lesson, LessonKind, Module
from courses.services import course_publish
from enrollments.selectors import lesson_page_get
from enrollments.services import enrollment_create, lesson_open
from tests.fixtures import client_for

User = get_user_model()

# Measured on the lesson page's reads and write (lesson_page_get + lesson_open). Half of
# each number is django-tenants' `SET search_path` before every statement. A change that
# raises one of these should say why in its commit message.
QUERIES_FIRST_VISIT_COLD = 14  # outline not cached yet: the first view of a new revision
QUERIES_FIRST_VISIT = 12  # outline cached; the lesson's progress row is created
QUERIES_REVISIT = 9  # outline cached; the progress row exists
# The whole GET of /learning/<slug>/lessons/<id>/ through the test client: the above, with
# the tenant (hostname -> tenant, ADR 0051), the signed-in user (ADR 0050) and the session
# all found in the cache.
VIEW_QUERIES_FIRST = (
    14  # outline not cached, first visit (17 while the tenant and the user were read each time)
)
VIEW_QUERIES = (
    3  # outline cached, lesson visited before; the learner's state reloads after the first visit's write
)
VIEW_QUERIES_WARM = 0  # nothing written since: no SQL at all (4 before: the tenant's domain and the user)


def _course(slug: str, *, modules: int, lessons: int) -> tuple[Course, list[Lesson]]:
    instructor = User.objects.get(email="instructor@acme.test")
    course = Course.objects.create(title=slug.replace("-", " ").title(), slug=slug)
    course.instructors.add(instructor)
    made = []
    for m in range(modules):
        module = Module.objects.create(course=course, title=f"Module {m + 1}", position=m)
        made += Lesson.objects.bulk_create(
            Lesson(
                module=module,
                title=f"Lesson {m + 1}.{n + 1}",
                kind=LessonKind.TEXT,
                body=f"## Part {n + 1}\n\nSome *text* for lesson {m + 1}.{n + 1}.\n",
                position=n,
                duration_minutes=5,
            )
            for n in range(lessons)
        )
    course_publish(actor=instructor, course=course)
    course.refresh_from_db()
    return course, made


def _open(user, course: Course, lesson: Lesson) -> list[str]:
    """The queries of one lesson view's work: read the page, then record the visit."""
    with CaptureQueriesContext(connection) as queries:
        page = lesson_page_get(user=user, course_slug=course.slug, lesson_id=lesson.pk)
        assert page.decision.allowed
        lesson_open(user=user, course=page.course, lesson_id=lesson.pk)
    return [q["sql"] for q in queries.captured_queries]


def _statements(queries: list[str]) -> str:
    return "\n".join(q[:160] for q in queries if not q.startswith("SET search_path"))


def test_lesson_page_queries_do_not_grow_with_the_course(in_tenant):
    """A 100-lesson course costs the learner's lesson page exactly what a 2-lesson course does."""
    learner = User.objects.get(email="learner@acme.test")
    big, big_lessons = _course("queries-10x10", modules=10, lessons=10)
    small, small_lessons = _course("queries-1x2", modules=1, lessons=2)
    for course in (big, small):
        enrollment_create(user=learner, course=course)
    measured = {}
    for name, course, lessons in (("10x10", big, big_lessons), ("1x2", small, small_lessons)):
        measured[name] = {
            "first_visit_cold": _open(learner, course, lessons[-1]),
            "first_visit": _open(learner, course, lessons[0]),
            "revisit": _open(learner, course, lessons[0]),
        }
    bounds = {
        "first_visit_cold": QUERIES_FIRST_VISIT_COLD,
        "first_visit": QUERIES_FIRST_VISIT,
        "revisit": QUERIES_REVISIT,
    }
    for case, bound in bounds.items():
        big_queries, small_queries = measured["10x10"][case], measured["1x2"][case]
        assert len(big_queries) == len(small_queries), (
            f"{case}: {len(big_queries)} queries for 10x10 but {len(small_queries)} for 1x2:\n"
            + _statements(big_queries)
        )
        assert len(big_queries) == bound, f"{case}: {len(big_queries)} != {bound}:\n" + _statements(
            big_queries
        )


def test_lesson_view_queries_do_not_grow_with_the_course(in_tenant):
    """The whole request (session, user, tenant, page, template) for a 10x10 course costs what 1x2 costs."""
    learner = User.objects.get(email="learner@acme.test")
    big, big_lessons = _course("view-queries-10x10", modules=10, lessons=10)
    small, small_lessons = _course("view-queries-1x2", modules=1, lessons=2)
    for course in (big, small):
        enrollment_create(user=learner, course=course)
    client = client_for(in_tenant, as_role="learner")
    # Signing in writes the user (last login), which forgets the cached person: one page
    # first, so every measured request finds the tenant and the person cached (ADR 0050, 0051).
    assert client.get("/").status_code == 200
    measured = {}
    for name, course, lessons in (("10x10", big, big_lessons), ("1x2", small, small_lessons)):
        url = reverse("enrollments:lesson", kwargs={"slug": course.slug, "lesson_id": lessons[0].pk})
        runs = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            runs.append([q["sql"] for q in queries.captured_queries])
        measured[name] = runs
    for index, (case, bound) in enumerate(
        [
            ("first request", VIEW_QUERIES_FIRST),
            ("second request", VIEW_QUERIES),
            ("third request", VIEW_QUERIES_WARM),
        ]
    ):
        big_queries, small_queries = measured["10x10"][index], measured["1x2"][index]
        assert len(big_queries) == len(small_queries), (
            f"{case}: {len(big_queries)} queries for 10x10 but {len(small_queries)} for 1x2:\n"
            + _statements(big_queries)
        )
        assert len(big_queries) == bound, f"{case}: {len(big_queries)} != {bound}:\n" + _statements(
            big_queries
        )
