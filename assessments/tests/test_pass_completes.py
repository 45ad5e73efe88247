"""A pass completes the quiz's lesson and recounts the course, in one upsert (ADR 0116, Update)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from assessments.services import attempt_start, attempt_submit
from core.events import domain_event
from courses.models import Lesson, LessonKind
from courses.services import course_publish
from enrollments.models import Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus
from enrollments.services import enrollment_create, lesson_complete, lesson_open

from .factories import answers_for, make_assessed_course


@pytest.fixture
def learner(in_tenant):
    return get_user_model().objects.get(email="learner@acme.test")


@pytest.fixture
def announced():
    seen = []

    def receive(sender, event_type, **_):
        seen.append(event_type)

    domain_event.connect(receive, dispatch_uid="test-pass-completes")
    yield seen
    domain_event.disconnect(dispatch_uid="test-pass-completes")


def _pass(learner, course, assessment):
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    attempt, submitted = attempt_submit(user=learner, attempt=attempt, answers=answers_for(assessment))
    assert submitted and attempt.passed
    return attempt


def test_passing_with_the_other_lesson_open_leaves_the_course_half_done(learner):
    course, lesson, assessment = make_assessed_course(slug="half-done", attempts_allowed=3)
    enrollment_create(user=learner, course=course)
    _pass(learner, course, assessment)
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.progress_percent == 50 and enrollment.status == EnrollmentStatus.ACTIVE
    assert enrollment.last_lesson_id == lesson.pk
    reading = Lesson.objects.get(module__course=course, kind=LessonKind.TEXT)
    lesson_complete(user=learner, course=course, lesson_id=reading.pk)
    enrollment.refresh_from_db()
    assert enrollment.progress_percent == 100 and enrollment.status == EnrollmentStatus.COMPLETED


def test_passing_the_last_lesson_completes_the_course(learner, announced):
    course, lesson, assessment = make_assessed_course(slug="last-one", attempts_allowed=3)
    enrollment_create(user=learner, course=course)
    reading = Lesson.objects.get(module__course=course, kind=LessonKind.TEXT)
    lesson_complete(user=learner, course=course, lesson_id=reading.pk)
    lesson_open(user=learner, course=course, lesson_id=lesson.pk)  # an in-progress row exists
    started = LessonProgress.objects.get(user=learner, lesson=lesson)
    assert started.status == ProgressStatus.IN_PROGRESS
    _pass(learner, course, assessment)
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.progress_percent == 100 and enrollment.status == EnrollmentStatus.COMPLETED
    assert enrollment.completed_at is not None
    progress = LessonProgress.objects.get(user=learner, lesson=lesson)
    assert progress.pk == started.pk and progress.started_at == started.started_at
    assert progress.status == ProgressStatus.COMPLETED and progress.percent == 100 and progress.completed_at
    assert announced.count("lesson.completed") == 2 and announced.count("enrollment.completed") == 1


def test_passing_again_keeps_the_first_completion_and_announces_it_once(learner, announced):
    course, lesson, assessment = make_assessed_course(slug="twice", attempts_allowed=3)
    enrollment_create(user=learner, course=course)
    _pass(learner, course, assessment)
    first = LessonProgress.objects.get(user=learner, lesson=lesson)
    _pass(learner, course, assessment)
    again = LessonProgress.objects.get(user=learner, lesson=lesson)
    assert again.pk == first.pk and again.completed_at == first.completed_at
    assert again.status == ProgressStatus.COMPLETED
    assert announced.count("lesson.completed") == 1
    assert LessonProgress.objects.filter(user=learner, lesson=lesson).count() == 1


def test_passing_an_optional_quiz_completes_its_lesson_but_not_the_course(learner):
    course, lesson, assessment = make_assessed_course(
        slug="optional-quiz", publish=False, text_lessons=1, passing_score=Decimal("50")
    )
    lesson.is_required = False
    lesson.save()
    course_publish(actor=get_user_model().objects.filter(role="admin").first(), course=course)
    course.refresh_from_db()
    enrollment_create(user=learner, course=course)
    _pass(learner, course, assessment)
    assert LessonProgress.objects.get(user=learner, lesson=lesson).status == ProgressStatus.COMPLETED
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.progress_percent == 0 and enrollment.status == EnrollmentStatus.ACTIVE


def test_a_course_whose_only_lesson_is_an_optional_quiz_counts_as_done(learner):
    course, lesson, assessment = make_assessed_course(slug="nothing-required", publish=False, text_lessons=0)
    lesson.is_required = False
    lesson.save()
    course_publish(actor=get_user_model().objects.filter(role="admin").first(), course=course)
    course.refresh_from_db()
    enrollment_create(user=learner, course=course)
    _pass(learner, course, assessment)
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.progress_percent == 100  # nothing required: as before, 100 without completing


def test_passing_forgets_the_learners_cached_state(learner):
    """The enrollment is written by the completing statement, not save(); its post_save is still
    sent, so the learner-state cache (enrollments.cache) does not keep the old rows."""
    from enrollments.cache import learner_state

    course, lesson, assessment = make_assessed_course(slug="cached-state", attempts_allowed=3)
    enrollment_create(user=learner, course=course)
    before, rows = learner_state(user=learner, course=course)
    assert before.progress_percent == 0 and rows == []
    _pass(learner, course, assessment)
    after, rows = learner_state(user=learner, course=course)
    assert after.progress_percent == 50 and after.last_lesson_id == lesson.pk
    assert [(row.lesson_id, row.status) for row in rows] == [(lesson.pk, ProgressStatus.COMPLETED)]


def test_grading_in_a_completed_course_keeps_its_completion(learner, announced):
    """An enrollment completed before stays as it was completed: no second completion, no event."""
    from enrollments.services import lesson_complete_graded

    course, lesson, assessment = make_assessed_course(slug="done-before", attempts_allowed=3)
    enrollment_create(user=learner, course=course)
    reading = Lesson.objects.get(module__course=course, kind=LessonKind.TEXT)
    lesson_complete(user=learner, course=course, lesson_id=reading.pk)
    _pass(learner, course, assessment)
    done = Enrollment.objects.get(user=learner, course=course)
    assert done.status == EnrollmentStatus.COMPLETED and announced.count("enrollment.completed") == 1
    lesson_complete_graded(user=learner, course=course, lesson_id=lesson.pk)
    again = Enrollment.objects.get(user=learner, course=course)
    assert again.status == EnrollmentStatus.COMPLETED and again.completed_at == done.completed_at
    assert again.progress_percent == 100 and announced.count("enrollment.completed") == 1


def test_staff_without_an_enrollment_record_nothing(in_tenant):
    from enrollments.services import lesson_complete_graded

    course, lesson, _ = make_assessed_course(slug="staff-try")
    instructor = get_user_model().objects.get(email="instructor@acme.test")
    assert lesson_complete_graded(user=instructor, course=course, lesson_id=lesson.pk) is None
    assert not LessonProgress.objects.filter(user=instructor).exists()
