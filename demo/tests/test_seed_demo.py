from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command
from django_tenants.utils import schema_context

from courses.models import Category, Course, CourseRevision, CourseStatus, EnrollmentPolicy, Lesson, Module
from enrollments.models import Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus
from media_delivery.models import MediaAsset
from tenants.cache import cache_purge_schema
from tenants.models import Tenant

User = get_user_model()


@pytest.fixture(autouse=True)
def _no_leftover_media_or_cache(db):
    yield
    # S3 objects and cache entries outlive the rolled-back transaction. The outlines cached
    # while seeding are keyed by revision ids that the restored schemas will hand out again.
    for tenant in Tenant.objects.exclude(schema_name="public"):
        with schema_context(tenant.schema_name):
            for lesson in Lesson.objects.exclude(video="", document=""):
                for name in (lesson.video.name, lesson.document.name):
                    if name:
                        default_storage.delete(name)
        cache_purge_schema(tenant.schema_name)


def _counts():
    counts = {"public": User.objects.count()}
    for tenant in Tenant.objects.exclude(schema_name="public"):
        with schema_context(tenant.schema_name):
            counts[tenant.slug] = {
                "people": sorted(User.objects.values_list("email", "role")),
                **{
                    model.__name__: model.objects.count()
                    for model in (
                        Category,
                        Course,
                        Module,
                        Lesson,
                        CourseRevision,
                        Enrollment,
                        LessonProgress,
                    )
                },
            }
    return counts


def test_seed_demo_creates_the_demo_tenants_and_is_safe_to_run_twice(db):
    Tenant.objects.filter(slug="globex").first().delete(force_drop=True)  # start one tenant from scratch
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert _counts() == first
    assert "http://acme.localhost:8000/" in out.getvalue()
    assert "demo-pass-2026" in out.getvalue()
    assert "acme: 3 published courses (3 added now)" in out.getvalue()
    assert "globex: 3 published courses (0 added now)" in again.getvalue()
    globex = Tenant.objects.get(slug="globex")
    assert globex.primary_colour == "#047857"
    with schema_context("globex"):
        for role in ("admin", "instructor", "learner"):
            user = User.objects.get(email=f"{role}@globex.test")
            assert user.role == role and user.check_password("demo-pass-2026")
    assert User.objects.get(email="operator@lms.test").is_superuser


def test_seed_demo_gives_each_tenant_its_own_catalog_with_media_and_a_learner_part_way(db):
    """acme already exists with people but no courses (the session's fixture): seeding fills it."""
    call_command("seed_demo", stdout=StringIO())
    catalogs = {}
    for slug in ("acme", "globex"):
        tenant = Tenant.objects.get(slug=slug)
        with schema_context(tenant.schema_name):
            published = Course.objects.alive().filter(status=CourseStatus.PUBLISHED)
            assert published.count() >= 3
            catalogs[slug] = set(published.values_list("title", flat=True))
            instructor = User.objects.get(email=f"instructor@{slug}.test")
            for course in published.prefetch_related("instructors"):
                assert list(course.instructors.all()) == [instructor]
                assert course.category is not None and course.category.parent is not None
                assert 2 <= course.modules.count() <= 4
                assert course.modules.filter(lessons__is_preview=True).count() == 1
                assert course.estimated_minutes > 0
            assert published.filter(enrollment_policy=EnrollmentPolicy.APPROVAL).count() == 1

            text = Lesson.objects.filter(kind="text").first()
            assert text.body.count("\n\n") >= 3 and "## " in text.body
            assert "lorem" not in "".join(Lesson.objects.values_list("body", flat=True)).lower()

            video = Lesson.objects.get(kind="video", module__course__in=published)
            assert default_storage.exists(video.video.name)  # a HEAD request to S3
            assert f"/t/{tenant.uuid}/lessons/video/" in default_storage.url(video.video.name)
            asset = MediaAsset.objects.get(lesson=video, kind="video")
            assert asset.status == "ready" and asset.key == f"t/{tenant.uuid}/{video.video.name}"
            with default_storage.open(video.video.name) as handle:
                mp4 = handle.read()
            assert mp4[4:8] == b"ftyp" and len(mp4) < 2_000_000
            assert 0 < mp4.index(b"moov") < mp4.index(b"mdat"), "not +faststart: moov after mdat"

            document = Lesson.objects.filter(kind="document", module__course__in=published).first()
            assert f"/t/{tenant.uuid}/lessons/documents/" in default_storage.url(document.document.name)
            with default_storage.open(document.document.name) as handle:
                pdf = handle.read()
            assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")

            enrollment = Enrollment.objects.get(user__email=f"learner@{slug}.test")
            assert enrollment.status == EnrollmentStatus.ACTIVE
            assert 0 < enrollment.progress_percent < 100
            assert enrollment.last_lesson == video  # "continue" resumes the video
            progress = {p.lesson_id: p for p in LessonProgress.objects.filter(user=enrollment.user)}
            completed = [p for p in progress.values() if p.status == ProgressStatus.COMPLETED]
            assert len(completed) == 2
            assert progress[video.pk].status == ProgressStatus.IN_PROGRESS
            assert progress[video.pk].last_position_seconds == 4

            # One published course has a real quiz; Acme's also gives certificates.
            from assessments.models import Assessment, CertificateSettings
            from courses.selectors import outline_for

            quiz = Assessment.objects.select_related("lesson__module__course").get()
            assert quiz.questions.count() >= 4 and quiz.time_limit_minutes
            assert quiz.lesson_id in outline_for(quiz.lesson.module.course).by_id
            assert CertificateSettings.objects.filter(enabled=True).count() == (1 if slug == "acme" else 0)
    assert not catalogs["acme"] & catalogs["globex"]


def test_the_demo_shows_a_drip_schedule_and_a_prerequisite(db):
    from django.contrib.auth import get_user_model

    from courses.models import Course
    from enrollments.selectors import lesson_page_get

    call_command("seed_demo", stdout=StringIO())
    with schema_context("acme"):
        course = Course.objects.get(slug="workplace-safety-essentials")
        learner = get_user_model().objects.get(email="learner@acme.test")
        lessons = {
            lesson.title: lesson
            for lesson in course.modules.get(title="When something goes wrong").lessons.all()
        }
        fire = lessons["Fire and evacuation"]
        assert [p.title for p in fire.prerequisites.all()] == ["Reporting incidents and near misses"]
        decision = lesson_page_get(user=learner, course_slug=course.slug, lesson_id=fire.pk).decision
        assert not decision.allowed and decision.reason.startswith("This lesson unlocks on")
