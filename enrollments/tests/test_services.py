import pytest
from django.contrib.auth import get_user_model
from django.http import Http404
from django_tenants.utils import schema_context

from courses.models import LessonKind
from courses.services import course_archive, course_publish
from courses.tests.factories import lessons_of, make_course, published_lesson
from enrollments.access import lesson_decision
from enrollments.models import Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus
from enrollments.selectors import continue_lesson_id, lesson_page_get
from enrollments.services import (
    EnrollmentError,
    enrollment_create,
    enrollment_decide,
    lesson_complete,
    lesson_open,
    video_progress_record,
)

User = get_user_model()


@pytest.fixture
def people(in_tenant):
    return {role: User.objects.get(email=f"{role}@acme.test") for role in ("admin", "instructor", "learner")}


def test_open_course_enrolls_at_once(people):
    course = make_course(slug="open")
    enrollment = enrollment_create(user=people["learner"], course=course)
    assert enrollment.status == EnrollmentStatus.ACTIVE and enrollment.enrolled_at


def test_approval_course_waits_for_staff_and_only_staff_decide(people):
    course = make_course(slug="approval", policy="approval")
    enrollment = enrollment_create(user=people["learner"], course=course)
    assert enrollment.status == EnrollmentStatus.PENDING
    first = lessons_of(course)[0]
    assert not lesson_decision(
        user=people["learner"],
        course=course,
        lesson=published_lesson(id=first.pk),
        enrollment=enrollment,
    )
    with pytest.raises(EnrollmentError, match=r"course's staff"):
        enrollment_decide(actor=people["learner"], enrollment=enrollment, approve=True)
    enrollment_decide(actor=people["admin"], enrollment=enrollment, approve=True)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE and enrollment.decided_by == people["admin"]


def test_invitation_only_and_unpublished_courses_refuse_enrollment_and_create_nothing(people):
    invitation = make_course(slug="invite", policy="invitation")
    draft = make_course(slug="draft", publish=False)
    archived = make_course(slug="old")
    course_archive(actor=people["admin"], course=archived)
    for course, reason in (
        (invitation, "ask your administrator"),
        (draft, "not open"),
        (archived, "not open"),
    ):
        with pytest.raises(EnrollmentError, match=reason):
            enrollment_create(user=people["learner"], course=course)
    assert not Enrollment.objects.exists()


def test_enrolling_twice_is_refused_and_keeps_one_enrollment(people):
    course = make_course(slug="twice")
    enrollment_create(user=people["learner"], course=course)
    with pytest.raises(EnrollmentError, match="You are enrolled in this course"):
        enrollment_create(user=people["learner"], course=course)
    assert Enrollment.objects.filter(course=course).count() == 1


def test_completing_every_required_lesson_completes_the_enrollment(people):
    course = make_course(slug="finish", lessons=3)
    lessons = lessons_of(course)
    lessons[2].is_required = False
    lessons[2].save()
    course_publish(actor=people["admin"], course=course)
    learner = people["learner"]
    enrollment = enrollment_create(user=learner, course=course)
    lesson_complete(user=learner, course=course, lesson_id=lessons[0].pk)
    enrollment.refresh_from_db()
    assert (enrollment.progress_percent, enrollment.status) == (50, EnrollmentStatus.ACTIVE)
    lesson_complete(user=learner, course=course, lesson_id=lessons[1].pk)
    enrollment.refresh_from_db()
    assert (enrollment.progress_percent, enrollment.status) == (100, EnrollmentStatus.COMPLETED)
    assert enrollment.completed_at is not None
    progress = LessonProgress.objects.get(user=learner, lesson=lessons[1])
    assert progress.status == ProgressStatus.COMPLETED and progress.completed_at and progress.percent == 100


def test_progress_needs_an_enrollment_and_a_lesson_of_this_course(people):
    course = make_course(slug="mine")
    other = make_course(slug="other")
    learner = people["learner"]
    with pytest.raises(EnrollmentError, match="Enroll"):
        lesson_complete(user=learner, course=course, lesson_id=lessons_of(course)[0].pk)
    enrollment_create(user=learner, course=course)
    with pytest.raises(Http404):
        lesson_complete(user=learner, course=course, lesson_id=lessons_of(other)[0].pk)
    assert not LessonProgress.objects.exists()


def test_preview_lesson_opens_without_enrolling_but_records_no_course_progress(people):
    course = make_course(slug="preview")
    first = lessons_of(course)[0]
    first.is_preview = True
    first.save()
    course_publish(actor=people["admin"], course=course)
    page = lesson_page_get(user=people["learner"], course_slug="preview", lesson_id=first.pk)
    assert page.decision.allowed
    second = lessons_of(course)[1]
    page = lesson_page_get(user=people["learner"], course_slug="preview", lesson_id=second.pk)
    assert not page.decision.allowed and page.decision.action == "enroll"
    assert "Enroll" in page.decision.reason


def test_video_heartbeats_set_the_resume_point_and_refuse_bad_numbers(people):
    """Completion by watching is in test_video_progress.py (ADR 0076)."""
    course = make_course(slug="video", publish=False)
    lesson = lessons_of(course)[0]
    lesson.kind, lesson.video.name = LessonKind.VIDEO, "lessons/video/x.mp4"
    lesson.save()
    course_publish(actor=people["admin"], course=course)
    learner = people["learner"]
    enrollment_create(user=learner, course=course)
    progress = video_progress_record(
        user=learner, course=course, lesson_id=lesson.pk, position=30, duration=100, watched_seconds=15
    )
    assert progress.last_position_seconds == 30 and progress.status == ProgressStatus.IN_PROGRESS
    # A forged heartbeat claiming far more than it could have watched completes nothing.
    progress = video_progress_record(
        user=learner, course=course, lesson_id=lesson.pk, position=95, duration=100, watched_seconds=5000
    )
    assert progress.watched_seconds < 5 and progress.status == ProgressStatus.IN_PROGRESS
    with pytest.raises(EnrollmentError, match="must be a number"):
        video_progress_record(
            user=learner, course=course, lesson_id=lesson.pk, position=-1, duration=100, watched_seconds=1
        )
    with pytest.raises(EnrollmentError, match="completes on its own"):
        lesson_complete(user=learner, course=course, lesson_id=lesson.pk)


def test_continue_goes_to_the_last_unfinished_lesson(people):
    course = make_course(slug="resume", lessons=3)
    lessons = lessons_of(course)
    learner = people["learner"]
    enrollment = enrollment_create(user=learner, course=course)
    lesson_complete(user=learner, course=course, lesson_id=lessons[0].pk)
    lesson_open(user=learner, course=course, lesson_id=lessons[1].pk)
    enrollment.refresh_from_db()
    outline = lesson_page_get(user=learner, course_slug="resume", lesson_id=lessons[0].pk).outline
    assert (
        continue_lesson_id(outline=outline, enrollment=enrollment, completed={lessons[0].pk}) == lessons[1].pk
    )
    lesson_complete(user=learner, course=course, lesson_id=lessons[1].pk)
    enrollment.refresh_from_db()
    done = {lessons[0].pk, lessons[1].pk}
    assert continue_lesson_id(outline=outline, enrollment=enrollment, completed=done) == lessons[2].pk


def test_staff_open_any_lesson_without_enrolling(people):
    course = make_course(slug="staff-view")
    lesson = lessons_of(course)[1]
    assert lesson_page_get(
        user=people["admin"], course_slug="staff-view", lesson_id=lesson.pk
    ).decision.allowed
    assert not lesson_page_get(
        user=people["instructor"], course_slug="staff-view", lesson_id=lesson.pk
    ).decision.allowed
    course.instructors.add(people["instructor"])
    instructor = User.objects.get(pk=people["instructor"].pk)  # fresh: taught courses are memoised per object
    assert lesson_page_get(user=instructor, course_slug="staff-view", lesson_id=lesson.pk).decision.allowed


def test_another_tenants_lesson_id_is_not_found(tenant, other_tenant):
    with schema_context(other_tenant.schema_name):
        foreign = make_course(slug="globex-only")
        foreign_lesson = lessons_of(foreign)[0].pk
    with schema_context(tenant.schema_name):
        learner = User.objects.get(email="learner@acme.test")
        with pytest.raises(Http404):
            lesson_page_get(user=learner, course_slug="globex-only", lesson_id=foreign_lesson)
        mine = make_course(slug="acme-course")
        if foreign_lesson not in {x.pk for x in lessons_of(mine)}:
            with pytest.raises(Http404):
                lesson_page_get(user=learner, course_slug="acme-course", lesson_id=foreign_lesson)


def test_staff_block_audit_and_window_a_learner_with_an_audit_trail(people):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import AuditEntry
    from enrollments.services import enrollment_set_access

    course = make_course(slug="access")
    enrollment = enrollment_create(user=people["learner"], course=course)
    lesson = lessons_of(course)[0]
    enrollment_set_access(actor=people["admin"], enrollment=enrollment, status="blocked")
    page = lesson_page_get(user=people["learner"], course_slug="access", lesson_id=lesson.pk)
    assert not page.decision.allowed and "blocked" in page.decision.reason
    start = timezone.now() + timedelta(days=1)
    enrollment = enrollment_set_access(
        actor=people["admin"], enrollment=enrollment, status="active", starts_at=start
    )
    page = lesson_page_get(user=people["learner"], course_slug="access", lesson_id=lesson.pk)
    assert "Your access starts on" in page.decision.reason
    entry = AuditEntry.objects.filter(action="enrollment.access_changed").latest("id")
    assert entry.before["status"] == "blocked" and entry.after["status"] == "active"


def test_bad_access_changes_are_refused_and_change_nothing(people):
    from datetime import timedelta

    from django.utils import timezone

    from enrollments.services import enrollment_set_access

    course = make_course(slug="access-bad")
    enrollment = enrollment_create(user=people["learner"], course=course)
    now = timezone.now()
    with pytest.raises(EnrollmentError, match="end after it starts"):
        enrollment_set_access(
            actor=people["admin"],
            enrollment=enrollment,
            status="active",
            starts_at=now,
            ends_at=now - timedelta(days=1),
        )
    with pytest.raises(EnrollmentError, match="course's staff"):
        enrollment_set_access(actor=people["learner"], enrollment=enrollment, status="blocked")
    with pytest.raises(EnrollmentError, match="active, auditing or blocked"):
        enrollment_set_access(actor=people["admin"], enrollment=enrollment, status="rejected")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.access_starts_at, enrollment.access_ends_at) == (
        "active",
        None,
        None,
    )
