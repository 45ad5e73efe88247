"""The assessment doors: quizzes and assignments, attempts, certificates (ADR 0140).

Taking a quiz is opening its lesson, so `enrollments.access` decides; these functions load
the assessment-side objects and answer in one call. A quiz the learner may see but not take
yet answers 403 with the lesson's reason (exactly like the locked lesson); what they may not
know exists is Http404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.http import Http404

from courses.models import Course, Lesson, LessonKind, Module
from courses.selectors import PublishedLesson, course_get_published
from enrollments.access import Decision, LessonAccess, access_lesson_in, grading_decision

from .models import Assessment, Attempt, Certificate, CertificateSettings
from .rows import ATTEMPT_QUESTIONS_SQL, questions_from_json

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
    which the statement matched, so it is not loaded again (`attempt.door_course`); and
    what the hand-in reads next, by the same statement (ADR 0202): the attempt's questions for
    grading (`attempt.door_questions`) and whether that course issues certificates
    (`attempt.door_certificates`)."""
    if for_grading:
        attempt = (
            Attempt.objects.select_related("user", "assessment__lesson__module__course")
            .filter(pk=attempt_id)
            .first()
        )
        if attempt is None or not grading_decision(user, attempt.assessment.lesson.module.course):
            raise Http404("No such submission.")
        return attempt
    if lock:
        attempt = _attempt_locked(user_id=user.pk, course=course, attempt_id=attempt_id)
    else:
        attempt = (
            Attempt.objects.filter(pk=attempt_id, user_id=user.pk, assessment__lesson__module__course=course)
            .select_related("assessment__lesson__module")
            .first()
        )
    if attempt is None:
        raise Http404("No such attempt.")
    return attempt


def _columns(alias: str, model) -> str:
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields)


# The statement the ORM made for the locking find (the attempt with its assessment and lesson,
# matched to the course through the lesson's module, FOR UPDATE OF the attempt alone), written
# once, plus what the hand-in that follows would otherwise ask in statements of their own
# (ADR 0202): the attempt's questions for grading, and whether the course issues certificates.
_LOCK_SQL = f"""
    SELECT {_columns("a", Attempt)}, {_columns("s", Assessment)}, {_columns("l", Lesson)},
        {ATTEMPT_QUESTIONS_SQL},
        EXISTS (SELECT 1 FROM {CertificateSettings._meta.db_table} AS cs
                WHERE cs.course_id = %(course)s AND cs.enabled)
    FROM {Attempt._meta.db_table} AS a
    JOIN {Assessment._meta.db_table} AS s ON s.id = a.assessment_id
    JOIN {Lesson._meta.db_table} AS l ON l.id = s.lesson_id
    JOIN {Module._meta.db_table} AS m ON m.id = l.module_id
    WHERE a.id = %(attempt)s AND a.user_id = %(user)s AND m.course_id = %(course)s
    FOR UPDATE OF a
"""  # noqa: S608 - table and column names from the models, values as placeholders


# Per model: the attnames of its concrete fields, and (position, converter) for the fields
# whose values the ORM converts after reading (JSON fields: Django reads jsonb as text).
_READERS: dict[type, tuple[list[str], list]] = {}


def _instance(model, values: list):
    """A model instance from a row of all its concrete columns, converted as the ORM would."""
    reader = _READERS.get(model)
    if reader is None:
        fields = model._meta.concrete_fields
        converters = [
            (index, convert)
            for index, field in enumerate(fields)
            for convert in field.get_db_converters(connection)
        ]
        reader = _READERS[model] = ([f.attname for f in fields], converters)
    names, converters = reader
    for index, convert in converters:
        values[index] = convert(values[index], None, connection)
    return model.from_db(connection.alias, names, values)


def _attempt_locked(*, user_id: int, course: Course | None, attempt_id) -> Attempt | None:
    if course is None:  # the ORM's filter on course=None matched nothing either
        return None
    try:
        attempt_id = int(attempt_id)
    except (TypeError, ValueError):
        return None
    if not 0 < attempt_id < 2**63:  # no such row, as the ORM answers (not a database error)
        return None
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, {"attempt": attempt_id, "user": user_id, "course": course.pk})
        row = cursor.fetchone()
    if row is None:
        return None
    a, s = len(Attempt._meta.concrete_fields), len(Assessment._meta.concrete_fields)
    attempt = _instance(Attempt, list(row[:a]))
    assessment = _instance(Assessment, list(row[a : a + s]))
    assessment.lesson = _instance(Lesson, list(row[a + s : -2]))
    attempt.assessment = assessment
    attempt.door_course = course
    attempt.door_questions = questions_from_json(row[-2])
    attempt.door_certificates = row[-1]
    return attempt


def access_certificate(*, user, code: str) -> Certificate:
    """A certificate with a file, for its holder or the course's staff; Http404 for anyone else."""
    certificate = Certificate.objects.select_related("course").filter(code=code).first()
    if certificate is None or not certificate.file:
        raise Http404("No such certificate.")
    if certificate.user_id != user.pk and not grading_decision(user, certificate.course):
        raise Http404("No such certificate.")
    return certificate
