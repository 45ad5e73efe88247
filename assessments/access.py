"""The assessment doors: quizzes and assignments, attempts, certificates (ADR 0140).

Taking a quiz is opening its lesson, so `enrollments.access` decides; these functions load
the assessment-side objects and answer in one call. A quiz the learner may see but not take
yet answers 403 with the lesson's reason (exactly like the locked lesson); what they may not
know exists is Http404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from courses.models import Course, LessonKind
from courses.selectors import PublishedLesson, course_get_published
from enrollments.access import Decision, LessonAccess, access_lesson_in, grading_decision

from .models import Assessment, Attempt, Certificate

ASSESSED_KINDS = frozenset({LessonKind.QUIZ, LessonKind.ASSIGNMENT})


@dataclass(frozen=True)
class QuizAccess:
    """An assessed lesson as the person may reach it: the door's bundle plus its assessment."""

    door: LessonAccess
    #: None while the authors have not set the quiz or assignment up yet
    assessment: Assessment | None

    @property
    def course(self) -> Course:
        return self.door.course

    @property
    def lesson(self) -> PublishedLesson:
        return self.door.lesson

    @property
    def decision(self) -> Decision:
        return self.door.decision


def _assessment_of(course: Course, lesson_id: int) -> Assessment | None:
    assessment = Assessment.objects.select_related("lesson__module").filter(lesson_id=lesson_id).first()
    if assessment is not None and assessment.lesson.module.course_id != course.pk:
        raise Http404("This lesson has no quiz or assignment.")
    return assessment


def take_decision(
    *, user, course: Course, assessment: Assessment | None = None, lesson_id: int | None = None
):
    """The policy's answer for taking this assessment's lesson (or this lesson) now."""
    lesson_id = assessment.lesson_id if assessment is not None else lesson_id
    if lesson_id is None:
        raise TypeError("take_decision needs an assessment or a lesson_id.")
    return access_lesson_in(user=user, course=course, lesson_id=lesson_id).decision


def access_quiz(*, user, course_slug: str, lesson_id: int, need_assessment: bool = False) -> QuizAccess:
    """The quiz or assignment of a published lesson the person may take now.

    Http404 for a lesson that is not assessed work of this published course (or, with
    `need_assessment`, one not set up yet); Forbidden with the reason while it is locked.
    """
    course = course_get_published(slug=course_slug)
    door = access_lesson_in(user=user, course=course, lesson_id=lesson_id)
    if door.lesson.kind not in ASSESSED_KINDS:
        raise Http404("This lesson has no quiz or assignment.")
    door.require()
    assessment = _assessment_of(course, door.lesson.id)
    if assessment is None and need_assessment:
        raise Http404("No such quiz.")
    return QuizAccess(door, assessment)


def access_attempt(
    *, user, attempt_id: int, course: Course | None = None, for_grading: bool = False, lock: bool = False
) -> Attempt:
    """The person's own attempt in this course (or, `for_grading`, any attempt of a course they
    grade); Http404 for anyone else's, the same as another tenant's.

    `lock` (inside a transaction): the attempt row is locked by the same statement that finds
    it (FOR UPDATE of the attempt alone), for a write that follows (the hand-in, ADR 0116).
    Its assessment and lesson come with it; its course is `course`,
    which the statement matched, so it is not loaded again (`attempt.door_course`)."""
    if for_grading:
        attempt = (
            Attempt.objects.select_related("user", "assessment__lesson__module__course")
            .filter(pk=attempt_id)
            .first()
        )
        if attempt is None or not grading_decision(user, attempt.assessment.lesson.module.course):
            raise Http404("No such submission.")
        return attempt
    found = Attempt.objects.filter(pk=attempt_id, user_id=user.pk, assessment__lesson__module__course=course)
    if lock:
        found = found.select_for_update(of=("self",)).select_related("assessment__lesson")
    else:
        found = found.select_related("assessment__lesson__module")
    attempt = found.first()
    if attempt is None:
        raise Http404("No such attempt.")
    if lock:
        attempt.door_course = course
    return attempt


def access_certificate(*, user, code: str) -> Certificate:
    """A certificate with a file, for its holder or the course's staff; Http404 for anyone else."""
    certificate = Certificate.objects.select_related("course").filter(code=code).first()
    if certificate is None or not certificate.file:
        raise Http404("No such certificate.")
    if certificate.user_id != user.pk and not grading_decision(user, certificate.course):
        raise Http404("No such certificate.")
    return certificate
