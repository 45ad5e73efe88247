"""Reads for learner pages: my learning, the lesson player, where to continue."""

from __future__ import annotations

from dataclasses import dataclass

from courses.models import Course
from courses.selectors import Outline, PublishedLesson

from .access import Decision, LessonAccess, access_lesson, locked_lessons
from .cache import learner_badges, learner_state
from .models import Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus


def enrollment_get(*, user, course: Course) -> Enrollment | None:
    return learner_state(user=user, course=course)[0]


def my_enrollments(*, user) -> list[Enrollment]:
    """The learner's courses, most recently active first, with what the cards need."""
    return list(
        Enrollment.objects.filter(
            user=user, course__deleted_at__isnull=True, course__published_revision__isnull=False
        )
        .exclude(status=EnrollmentStatus.REJECTED)
        .select_related("course", "course__published_revision")
        .defer("course__published_revision__snapshot", "course__description")
    )


@dataclass(frozen=True)
class EnrollmentBadge:
    status: str
    progress_percent: int


def enrollment_badges(*, user) -> dict[int, EnrollmentBadge]:
    """course id -> the learner's status and progress, for catalog cards.

    Cached per learner (enrollments.cache.learner_badges: read with the routing token when
    warm), so the catalog costs no query: one light query when the entry is missing.
    """

    def load() -> dict[int, tuple[str, int]]:
        rows = Enrollment.objects.filter(user=user).exclude(status=EnrollmentStatus.REJECTED)
        return {
            course_id: (status, percent)
            for course_id, status, percent in rows.values_list("course_id", "status", "progress_percent")
        }

    return {
        course_id: EnrollmentBadge(status, percent)
        for course_id, (status, percent) in learner_badges(user=user, load=load).items()
    }


def _completed_ids(rows: list[LessonProgress]) -> set[int]:
    return {row.lesson_id for row in rows if row.status == ProgressStatus.COMPLETED}


def completed_lesson_ids(*, user, course: Course) -> set[int]:
    return _completed_ids(learner_state(user=user, course=course)[1])


def continue_lesson_id(
    *,
    outline: Outline,
    enrollment: Enrollment | None,
    completed: set[int],
    locked: dict[int, Decision] | None = None,
) -> int | None:
    """Where "continue" goes: the last lesson opened if unfinished, else the next unfinished one,
    never a lesson the learner may not open yet (`locked`, from `access.locked_lessons`).

    None when every unfinished lesson is still locked (the caller says what opens when, see
    `first_locked`); a finished course goes back to its first lesson for review.
    """
    locked = locked or {}
    if not outline.lessons:
        return None
    start = 0
    if enrollment is not None and enrollment.last_lesson_id in outline.by_id:
        last = outline.by_id[enrollment.last_lesson_id]
        if last.id not in completed and last.id not in locked:
            return last.id
        start = last.index
    ordered = outline.lessons[start:] + outline.lessons[:start]
    unfinished = [lesson for lesson in ordered if lesson.id not in completed]
    for lesson in unfinished:
        if lesson.id not in locked:
            return lesson.id
    if unfinished:
        return None
    return next((lesson.id for lesson in outline.lessons if lesson.id not in locked), None)


def first_locked(*, outline: Outline, completed: set[int], locked: dict[int, Decision]):
    """(lesson, refusal) of the first unfinished lesson still locked, in reading order; None if none."""
    for lesson in outline.lessons:
        if lesson.id in locked and lesson.id not in completed:
            return lesson, locked[lesson.id]
    return None


def open_neighbour(
    *, outline: Outline, lesson_id: int, locked: dict[int, Decision], step: int
) -> PublishedLesson | None:
    """The nearest lesson before (step -1) or after (step 1) this one that the learner may open."""
    index = outline.lesson(lesson_id).index + step
    while 0 <= index < len(outline.lessons):
        if outline.lessons[index].id not in locked:
            return outline.lessons[index]
        index += step
    return None


@dataclass
class LessonPage:
    course: Course
    outline: Outline
    lesson: PublishedLesson
    enrollment: Enrollment | None
    decision: Decision
    progress: LessonProgress | None
    completed: set[int]
    #: the nearest lessons before and after this one that the learner may open (locks skipped)
    previous: PublishedLesson | None
    next: PublishedLesson | None
    #: lesson id -> refusal, for the lessons the learner's schedule or prerequisites keep closed
    locked: dict[int, Decision]
    #: (lesson, refusal) of the lesson right after this one when it is locked (Next skipped it)
    next_locked: tuple[PublishedLesson, Decision] | None
    #: the door's answer itself, for the services the page calls next (no second decision)
    access: LessonAccess | None = None
    #: the person is on the course's staff (asked once, by the door)
    staff: bool = False


def lesson_page_get(*, user, course_slug: str, lesson_id: int) -> LessonPage:
    """Everything the lesson player shows; Http404 when the lesson is not in this published course."""
    # The door reads once (one cache read, two queries when cold): the enrollment, and the
    # progress rows that give the ticks, the prerequisites and this lesson's resume point.
    door = access_lesson(user=user, course_slug=course_slug, lesson_id=lesson_id)
    course, outline, lesson, enrollment = door.course, door.outline, door.lesson, door.enrollment
    completed, decision, progress = set(door.completed), door.decision, door.progress
    locked = locked_lessons(
        user=user,
        course=course,
        outline=outline,
        enrollment=enrollment,
        completed=completed,
        staff=door.staff,
    )
    _, following = outline.neighbours(lesson.id)
    return LessonPage(
        course,
        outline,
        lesson,
        enrollment,
        decision,
        progress,
        completed,
        open_neighbour(outline=outline, lesson_id=lesson.id, locked=locked, step=-1),
        open_neighbour(outline=outline, lesson_id=lesson.id, locked=locked, step=1),
        locked,
        (following, locked[following.id]) if following and following.id in locked else None,
        door,
        door.staff,
    )
