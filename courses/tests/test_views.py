"""The catalog, a course's landing page, enrolling, and staff's preview of a draft."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from courses.models import Category, Course, CourseStatus, Lesson, LessonKind, Module
from courses.services import course_archive, course_publish
from enrollments.models import Enrollment, EnrollmentStatus, LessonProgress
from tests.fixtures import client_for, host_of

User = get_user_model()


def build_course(
    *,
    slug: str,
    title: str | None = None,
    modules: int = 1,
    lessons: int = 2,
    kinds: list[str] | None = None,
    policy: str = "open",
    publish: bool = True,
    preview_lessons: int = 0,
    **fields,
) -> Course:
    """A course with `modules` x `lessons` text lessons (or the given kinds, in order), published.

    Call with the connection on a tenant (`in_tenant` or schema_context).
    """
    course = Course.objects.create(
        title=title or slug.replace("-", " ").title(), slug=slug, enrollment_policy=policy, **fields
    )
    kinds = list(kinds or [])
    number = 0
    for m in range(modules):
        module = Module.objects.create(course=course, title=f"Module {m + 1}", position=m)
        for n in range(lessons):
            kind = kinds[number] if number < len(kinds) else LessonKind.TEXT
            Lesson.objects.create(
                module=module,
                title=f"Lesson {m + 1}.{n + 1}",
                kind=kind,
                body=f"Text of lesson {m + 1}.{n + 1}.",
                position=n,
                duration_minutes=5,
                is_preview=number < preview_lessons,
                video=f"lessons/video/{slug}-{number}.mp4" if kind == LessonKind.VIDEO else "",
                document=f"lessons/documents/{slug}-{number}.pdf" if kind == LessonKind.DOCUMENT else "",
                embed_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ" if kind == LessonKind.EMBED else "",
            )
            number += 1
    if publish:
        course_publish(actor=User.objects.get(email__startswith="admin@"), course=course)
        course.refresh_from_db()
    return course


def lesson_ids(course: Course) -> list[int]:
    return list(
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .values_list("pk", flat=True)
    )


@pytest.fixture
def learner(in_tenant):
    return User.objects.get(email="learner@acme.test")


# --- Catalog ------------------------------------------------------------------------------


def test_anonymous_visitors_get_the_welcome_not_the_catalog(in_tenant):
    build_course(slug="visible-course", title="Visible course")
    page = client_for(in_tenant).get("/").content.decode()
    assert "Sign in to continue learning" in page
    assert "Visible course" not in page


def test_catalog_lists_only_published_courses(in_tenant, learner):
    build_course(slug="published", title="Published course")
    build_course(slug="draft", title="Draft course", publish=False)
    course_archive(
        actor=User.objects.get(email="admin@acme.test"),
        course=build_course(slug="archived", title="Archived course"),
    )
    build_course(slug="deleted", title="Deleted course").soft_delete()
    response = client_for(in_tenant, as_role="learner").get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Published course" in page
    for hidden in ("Draft course", "Archived course", "Deleted course"):
        assert hidden not in page
    assert "Welcome back" in page
    assert 'href="/courses/published/"' in page


def test_catalog_card_shows_summary_level_duration_and_lesson_count(in_tenant):
    build_course(
        slug="sql",
        title="SQL basics",
        summary="Query tables.",
        level="intermediate",
        lessons=3,
        estimated_minutes=90,
    )
    page = client_for(in_tenant, as_role="learner").get("/").content.decode()
    assert "SQL basics" in page and "Query tables." in page
    assert "Intermediate" in page and "1 h 30 min" in page and "3 lessons" in page


def test_catalog_filters_by_category_including_subcategories(in_tenant):
    data = Category.objects.create(name="Data", slug="data")
    sql = Category.objects.create(name="SQL", slug="sql", parent=data)
    design = Category.objects.create(name="Design", slug="design")
    build_course(slug="joins", title="Joins in depth", category=sql)
    build_course(slug="pandas", title="Pandas for analysts", category=data)
    build_course(slug="colour", title="Colour theory", category=design)
    client = client_for(in_tenant, as_role="learner")

    page = client.get("/", {"category": "data"}).content.decode()
    assert "Joins in depth" in page and "Pandas for analysts" in page
    assert "Colour theory" not in page

    page = client.get("/", {"category": "sql"}).content.decode()
    assert "Joins in depth" in page
    assert "Pandas for analysts" not in page and "Colour theory" not in page

    page = client.get("/", {"category": "nothing-like-this"}).content.decode()
    assert "No courses match" in page and "Joins in depth" not in page


def test_catalog_search_by_title_and_empty_states(in_tenant):
    client = client_for(in_tenant, as_role="learner")
    assert "No courses published yet" in client.get("/").content.decode()
    build_course(slug="kubernetes", title="Kubernetes for beginners")
    build_course(slug="excel", title="Excel tricks")
    page = client.get("/", {"q": "kubernetes"}).content.decode()
    assert "Kubernetes for beginners" in page and "Excel tricks" not in page
    page = client.get("/", {"q": "astrophysics"}).content.decode()
    assert "No courses match “astrophysics”" in page
    assert "No courses published yet" not in page


def test_catalog_marks_the_learners_own_courses(in_tenant, learner):
    from enrollments.services import enrollment_create

    course = build_course(slug="mine", title="My course")
    build_course(slug="other", title="Other course")
    enrollment_create(user=learner, course=course)
    page = client_for(in_tenant, as_role="learner").get("/").content.decode()
    assert page.count("Enrolled · 0%") == 1


def test_staff_see_the_administration_button_on_the_catalog(in_tenant):
    assert "Open administration" in client_for(in_tenant, as_role="admin").get("/").content.decode()
    assert "Open administration" not in client_for(in_tenant, as_role="learner").get("/").content.decode()


def test_catalog_query_count_does_not_grow_with_the_number_of_courses(
    in_tenant, django_assert_max_num_queries
):
    # django-tenants sets the search_path before each query (TENANT_LIMIT_SET_CALLS is off),
    # so every query counts twice: domain, user, enrollments, categories (+children), courses.
    client = client_for(in_tenant, as_role="learner")
    Category.objects.create(name="Data", slug="data")
    build_course(slug="only-one")
    client.get("/")
    with django_assert_max_num_queries(12) as one:
        assert client.get("/").status_code == 200
    for n in range(19):
        build_course(slug=f"course-{n}", title=f"Course {n}")
    client.get("/")
    with django_assert_max_num_queries(12) as twenty:
        page = client.get("/").content.decode()
    assert page.count('class="course-card"') == 20
    assert len(twenty.captured_queries) == len(one.captured_queries)


# --- Landing page -------------------------------------------------------------------------


def test_landing_page_shows_the_course_and_its_syllabus(in_tenant):
    instructor = User.objects.get(email="instructor@acme.test")
    course = build_course(
        slug="landing",
        title="Landing course",
        summary="A short summary.",
        description="## Why\n\nBecause **it matters**.\n\n<script>alert(1)</script>",
        kinds=[LessonKind.VIDEO, LessonKind.TEXT, LessonKind.DOCUMENT],
        lessons=3,
        preview_lessons=1,
        publish=False,
    )
    course.instructors.add(instructor)
    course_publish(actor=instructor, course=course)
    first = lesson_ids(course)[0]
    page = client_for(in_tenant, as_role="learner").get("/courses/landing/").content.decode()
    assert "Landing course" in page and "A short summary." in page
    assert "<strong>it matters</strong>" in page and "<script>alert(1)" not in page
    assert instructor.get_full_name() in page
    assert "Module 1: Module 1" in page
    for title in ("Lesson 1.1", "Lesson 1.2", "Lesson 1.3"):
        assert title in page
    assert "Video · 5 min" in page and "PDF · 5 min" in page and "Reading · 5 min" in page
    assert f'href="/learning/landing/lessons/{first}/"' in page and ">Preview<" in page
    assert '<button class="button wide" type="submit">Enroll</button>' in page


def test_landing_page_is_404_for_drafts_deleted_and_other_tenants_courses(in_tenant, other_tenant):
    build_course(slug="draft-only", publish=False)
    build_course(slug="gone").soft_delete()
    with schema_context(other_tenant.schema_name):
        build_course(slug="globex-only")
    client = client_for(in_tenant, as_role="admin")
    for slug in ("draft-only", "gone", "globex-only", "never-existed"):
        assert client.get(f"/courses/{slug}/").status_code == 404, slug
    assert client_for(other_tenant, as_role="learner").get("/courses/globex-only/").status_code == 200


def test_landing_page_queries_do_not_grow_with_the_course(in_tenant, learner, django_assert_max_num_queries):
    from enrollments.services import enrollment_create

    client = client_for(in_tenant, as_role="learner")
    counts = []
    for slug, modules, lessons in (("large", 10, 10), ("tiny", 1, 2)):
        enrollment_create(user=learner, course=build_course(slug=slug, modules=modules, lessons=lessons))
        client.get(f"/courses/{slug}/")  # warms the outline cache
        # Each query twice (django-tenants' SET search_path): domain, course, user, enrollment,
        # completed ids, instructors.
        with django_assert_max_num_queries(12) as captured:
            assert client.get(f"/courses/{slug}/").status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("open", ">Enroll</button>"),
        ("approval", ">Request to join</button>"),
        ("invitation", "This course is by invitation: ask your administrator to enroll you."),
    ],
)
def test_landing_page_action_follows_the_enrollment_policy(in_tenant, policy, expected):
    build_course(slug="policy", policy=policy)
    page = client_for(in_tenant, as_role="learner").get("/courses/policy/").content.decode()
    assert expected in page
    if policy == "invitation":
        assert "</button>" not in page.split('class="card action-card"')[1].split("</section>")[0]


def test_landing_page_for_visitors_and_for_enrolled_learners(in_tenant, learner):
    from enrollments.services import enrollment_create, lesson_complete

    course = build_course(slug="journey", lessons=2)
    tenant = in_tenant
    # A tenant's courses are for its signed-in people: visitors are sent to sign in.
    response = client_for(tenant).get("/courses/journey/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/courses/journey/"

    enrollment_create(user=learner, course=course)
    client = client_for(tenant, as_role="learner")
    page = client.get("/courses/journey/").content.decode()
    assert ">Start</a>" in page and 'href="/learning/journey/continue/"' in page
    lesson_complete(user=learner, course=course, lesson_id=lesson_ids(course)[0])
    page = client.get("/courses/journey/").content.decode()
    assert ">Continue</a>" in page and "50% complete" in page
    assert page.count('class="lesson-row is-done"') == 1


# --- Enrolling ----------------------------------------------------------------------------


def test_enrolling_in_an_open_course_starts_at_the_first_lesson(in_tenant, learner):
    course = build_course(slug="open-course")
    client = client_for(in_tenant, as_role="learner")
    response = client.post("/courses/open-course/enroll/")
    assert response.status_code == 302
    assert response["Location"] == f"/learning/open-course/lessons/{lesson_ids(course)[0]}/"
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.status == EnrollmentStatus.ACTIVE
    page = client.get(response["Location"]).content.decode()
    assert "You are enrolled in Open Course" in page


def test_asking_to_join_an_approval_course_waits_for_approval(in_tenant, learner):
    course = build_course(slug="approval-course", policy="approval")
    client = client_for(in_tenant, as_role="learner")
    response = client.post("/courses/approval-course/enroll/", follow=True)
    assert response.redirect_chain[-1][0] == "/courses/approval-course/"
    page = response.content.decode()
    assert "Your request to join Approval Course was sent" in page
    assert "Your request to join is waiting for approval." in page
    assert Enrollment.objects.get(user=learner, course=course).status == EnrollmentStatus.PENDING


def test_invitation_courses_refuse_enrollment_and_create_nothing(in_tenant, learner):
    build_course(slug="invite-only", policy="invitation")
    client = client_for(in_tenant, as_role="learner")
    response = client.post("/courses/invite-only/enroll/", follow=True)
    assert "ask your administrator" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_enrolling_in_unpublished_or_foreign_courses_is_refused_and_creates_nothing(
    in_tenant, learner, other_tenant
):
    tenant = in_tenant
    build_course(slug="draft-course", publish=False)
    course_archive(
        actor=User.objects.get(email="admin@acme.test"), course=build_course(slug="archived-course")
    )
    build_course(slug="deleted-course").soft_delete()
    with schema_context(other_tenant.schema_name):
        build_course(slug="globex-course")
    client = client_for(tenant, as_role="learner")
    for slug in ("draft-course", "deleted-course", "globex-course"):
        assert client.post(f"/courses/{slug}/enroll/").status_code == 404, slug
    response = client.post("/courses/archived-course/enroll/", follow=True)
    assert "This course is not open for enrollment." in response.content.decode()
    assert not Enrollment.objects.exists()
    with schema_context(other_tenant.schema_name):
        assert not Enrollment.objects.exists()


def test_enrolling_needs_post_a_csrf_token_and_a_signed_in_person(in_tenant, learner):
    build_course(slug="csrf-course")
    tenant = in_tenant
    client = client_for(tenant, as_role="learner")
    assert client.get("/courses/csrf-course/enroll/").status_code == 405
    strict = Client(HTTP_HOST=host_of(tenant), enforce_csrf_checks=True)
    strict.force_login(learner)
    assert strict.post("/courses/csrf-course/enroll/").status_code == 403
    response = client_for(tenant).post("/courses/csrf-course/enroll/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Enrollment.objects.exists()


# --- Preview of the draft (staff) ---------------------------------------------------------


def test_preview_of_the_draft_is_for_course_staff_only(in_tenant):
    course = build_course(slug="drafty", title="Drafty", publish=False)
    instructor = User.objects.get(email="instructor@acme.test")
    first = lesson_ids(course)[0]
    paths = ("/courses/drafty/preview/", f"/courses/drafty/preview/lessons/{first}/")
    for role in ("learner", "instructor"):  # the instructor does not teach this course yet
        client = client_for(in_tenant, as_role=role)
        for path in paths:
            assert client.get(path).status_code == 404, (role, path)
    course.instructors.add(instructor)
    for role in ("instructor", "admin"):
        client = client_for(in_tenant, as_role=role)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (role, path)
            assert "Preview of unpublished draft" in response.content.decode()
    anonymous = client_for(in_tenant).get(paths[0])
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_preview_shows_the_draft_not_the_published_revision_and_records_nothing(in_tenant):
    course = build_course(slug="evolving", title="Evolving")
    module = course.modules.get()
    new = Lesson.objects.create(module=module, title="Brand new lesson", body="Fresh **text**.", position=9)
    client = client_for(in_tenant, as_role="admin")
    published = client.get("/courses/evolving/").content.decode()
    assert "Brand new lesson" not in published
    landing = client.get("/courses/evolving/preview/").content.decode()
    assert "Brand new lesson" in landing
    assert f'href="/courses/evolving/preview/lessons/{new.pk}/"' in landing
    page = client.get(f"/courses/evolving/preview/lessons/{new.pk}/").content.decode()
    assert "Fresh <strong>text</strong>." in page
    assert "Mark complete" not in page and "data-progress-url" not in page
    assert f'href="/courses/evolving/preview/lessons/{lesson_ids(course)[1]}/"' in page  # previous
    assert not LessonProgress.objects.exists() and not Enrollment.objects.exists()
    assert course.status == CourseStatus.PUBLISHED
    assert client.get("/courses/evolving/preview/lessons/999999/").status_code == 404
