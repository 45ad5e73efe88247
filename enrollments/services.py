"""Every write about learners taking courses: enroll, request, approve, progress, completion."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from accounts.audit import audit_record
from accounts.events import person_data
from analytics.ingest import track
from core.errors import DomainError
from core.events import emit
from courses.events import course_data
from courses.models import SELF_COMPLETED_KINDS, Course, LessonKind
from courses.permissions import courses_for_staff
from courses.selectors import Outline, PublishedLesson, outline_for

from .access import LessonAccess, access_lesson_in, enrollment_decision
from .models import Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus

# The player sends a heartbeat every 15 s while playing (and on pause, end, leaving): a longer
# gap means it was not playing all along, so no heartbeat covers more than this much time.
MAX_HEARTBEAT_SECONDS = 60
# Network jitter between two heartbeats, in seconds (ADR 0076).
HEARTBEAT_TOLERANCE_SECONDS = 2.0


class EnrollmentError(DomainError):
    """A refused enrollment or progress change, with a sentence for the learner."""


@transaction.atomic
def enrollment_create(*, user, course: Course) -> Enrollment:
    """Enroll (open courses) or ask to join (approval courses), as the course's policy says."""
    existing = Enrollment.objects.select_for_update().filter(user=user, course=course).first()
    decision = enrollment_decision(user=user, course=course, enrollment=existing)
    if not decision.allowed:
        raise EnrollmentError(decision.reason)
    now = timezone.now()
    status = EnrollmentStatus.PENDING if decision.action == "request" else EnrollmentStatus.ACTIVE
    enrollment = existing or Enrollment(user=user, course=course)
    enrollment.status = status
    enrollment.enrolled_at = now if status == EnrollmentStatus.ACTIVE else None
    enrollment.last_activity_at = now
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:  # a second tab enrolled at the same moment
        return Enrollment.objects.get(user=user, course=course)
    action = "enrollment.requested" if status == EnrollmentStatus.PENDING else "enrollment.created"
    audit_record(actor=user, action=action, target=enrollment, after={"status": status})
    if status == EnrollmentStatus.ACTIVE:
        _track_after_commit("enrollment.created", user.pk, course_id=course.pk)
        _announce("enrollment.created", enrollment, source="self")
    return enrollment


@transaction.atomic
def enrollment_add(*, actor, user, course: Course) -> Enrollment:
    """Course staff (or an admin) enroll a person directly: active at once, whatever the policy."""
    if not courses_for_staff(actor).alive().filter(pk=course.pk).exists():
        raise EnrollmentError(
            "Only the course's staff can enroll people in it.", status=403, code="not_course_staff"
        )
    existing = Enrollment.objects.select_for_update().filter(user=user, course=course).first()
    if existing is not None:
        raise EnrollmentError(
            f"{user} already has an enrollment here ({existing.get_status_display()}).",
            field="user",
            status=409,
            code="already_enrolled",
        )
    now = timezone.now()
    enrollment = Enrollment.objects.create(
        user=user,
        course=course,
        status=EnrollmentStatus.ACTIVE,
        enrolled_at=now,
        decided_by=actor,
        last_activity_at=now,
    )
    audit_record(
        actor=actor,
        action="enrollment.added_by_staff",
        target=enrollment,
        after={"status": EnrollmentStatus.ACTIVE},
    )
    _track_after_commit("enrollment.created", user.pk, course_id=course.pk)
    _announce("enrollment.created", enrollment, source="staff")
    return enrollment


@transaction.atomic
def enrollment_decide(*, actor, enrollment: Enrollment, approve: bool) -> Enrollment:
    """An admin (or the course's staff) approves or declines a request to join."""
    from .access import is_course_staff

    if not is_course_staff(actor, enrollment.course):
        raise EnrollmentError("Only the course's staff can decide on requests.")
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status != EnrollmentStatus.PENDING:
        raise EnrollmentError("This request was already decided.")
    enrollment.status = EnrollmentStatus.ACTIVE if approve else EnrollmentStatus.REJECTED
    enrollment.enrolled_at = timezone.now() if approve else None
    enrollment.decided_by = actor
    enrollment.save(update_fields=["status", "enrolled_at", "decided_by", "updated_at"])
    audit_record(
        actor=actor,
        action="enrollment.approved" if approve else "enrollment.declined",
        target=enrollment,
        before={"status": EnrollmentStatus.PENDING},
        after={"status": enrollment.status},
    )
    if approve:
        _announce("enrollment.created", enrollment, source="approved")
    return enrollment


def _recompute(enrollment: Enrollment, outline: Outline, done: int | None = None) -> None:
    """The enrollment's percent and completion from its completed required lessons (`done`:
    how many, when the caller counted them already)."""
    required = outline.required_ids
    if done is None:
        done = LessonProgress.objects.filter(
            user_id=enrollment.user_id, lesson_id__in=required, status=ProgressStatus.COMPLETED
        ).count()
    enrollment.progress_percent = round(100 * done / len(required)) if required else 100
    if required and done == len(required) and enrollment.status == EnrollmentStatus.ACTIVE:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed_at = timezone.now()
        _track_after_commit("enrollment.completed", enrollment.user_id, course_id=enrollment.course_id)
        _announce("enrollment.completed", enrollment)


def _completed(user, course: Course) -> set[int]:
    return set(
        LessonProgress.objects.filter(user=user, course=course, status=ProgressStatus.COMPLETED).values_list(
            "lesson_id", flat=True
        )
    )


def _progress_for(
    *, user, course: Course, lesson: PublishedLesson, outline: Outline
) -> tuple[LessonProgress, Enrollment | None]:
    enrollment = Enrollment.objects.select_for_update().filter(user=user, course=course).first()
    decision = access_lesson_in(
        user=user,
        course=course,
        lesson_id=lesson.id,
        enrollment=enrollment,
        completed=_completed(user, course),
    ).decision
    if not decision.allowed:
        raise EnrollmentError(decision.reason)
    progress, _ = LessonProgress.objects.select_for_update().get_or_create(
        user=user, lesson_id=lesson.id, defaults={"course": course}
    )
    return progress, enrollment


# What _touch changes on an enrollment (the rest of the row is not written back).
TOUCHED_FIELDS = [
    "last_lesson",
    "last_activity_at",
    "progress_percent",
    "status",
    "completed_at",
    "updated_at",
]


def _touch(enrollment: Enrollment | None, lesson_id: int, outline: Outline, done: int | None = None) -> None:
    if enrollment is None or not enrollment.opens_lessons:
        return
    enrollment.last_lesson_id = lesson_id
    enrollment.last_activity_at = timezone.now()
    _recompute(enrollment, outline, done)
    # Its post_save also forgets the learner's cached state (enrollments.cache), which holds
    # the progress rows too: a progress write that skips the ORM relies on this save.
    enrollment.save(update_fields=TOUCHED_FIELDS)


_UNKNOWN = object()


def lesson_open(
    *,
    user,
    course: Course,
    lesson_id: int,
    enrollment=_UNKNOWN,
    progress=_UNKNOWN,
    completed=None,
    access: LessonAccess | None = None,
):
    """Record that an enrolled learner opened a lesson (their resume point).

    Staff and people opening a free preview record nothing: progress belongs to enrollments.
    A page that already read the enrollment and progress passes them in; reopening the
    lesson the learner is already on then writes nothing (page views are frequent; the
    resume point has not moved). A page that asked the door passes its answer (`access`):
    the decision is then not made a second time from the same inputs.
    """
    if access is not None and access.course.pk == course.pk and access.lesson.id == int(lesson_id):
        outline, lesson, decision = access.outline, access.lesson, access.decision
        if enrollment is _UNKNOWN:
            enrollment = access.enrollment
    else:
        outline = outline_for(course)
        lesson = outline.lesson(lesson_id)
        if enrollment is _UNKNOWN:
            enrollment = Enrollment.objects.filter(user=user, course=course).first()
        if completed is None and lesson.prerequisites:
            completed = _completed(user, course)
        decision = access_lesson_in(
            user=user, course=course, lesson_id=lesson.id, enrollment=enrollment, completed=completed or set()
        ).decision
    if not decision.allowed:
        raise EnrollmentError(decision.reason)
    if enrollment is None or not enrollment.opens_lessons:
        return None
    _track_after_commit("lesson.viewed", user.pk, course_id=course.pk, lesson_id=lesson.id)
    if progress is not _UNKNOWN and progress is not None and enrollment.last_lesson_id == lesson.id:
        return progress
    return _lesson_open_record(user=user, course=course, lesson=lesson, outline=outline)


@transaction.atomic
def _lesson_open_record(
    *, user, course: Course, lesson: PublishedLesson, outline: Outline
) -> LessonProgress | None:
    enrollment = Enrollment.objects.select_for_update().filter(user=user, course=course).first()
    if enrollment is None or not enrollment.opens_lessons:
        return None
    progress, _ = LessonProgress.objects.get_or_create(
        user=user, lesson_id=lesson.id, defaults={"course": course}
    )
    _touch(enrollment, lesson.id, outline)
    return progress


@transaction.atomic
def lesson_complete(*, user, course: Course, lesson_id: int) -> LessonProgress:
    """The learner marks a text, document or embedded-video lesson as done."""
    outline = outline_for(course)
    lesson = outline.lesson(lesson_id)
    if lesson.kind not in SELF_COMPLETED_KINDS:
        raise EnrollmentError("This lesson completes on its own when you finish it.")
    progress, enrollment = _progress_for(user=user, course=course, lesson=lesson, outline=outline)
    if enrollment is None or not enrollment.opens_lessons:
        raise EnrollmentError("Enroll in this course to record your progress.")
    _mark_completed(progress)
    _touch(enrollment, lesson.id, outline)
    return progress


# No savepoint: it runs inside the grading's transaction (ADR 0116) and nobody catches its
# errors to carry on, so a failure rolls the whole hand-in back anyway.
@transaction.atomic(savepoint=False)
def lesson_complete_graded(*, user, course: Course, lesson_id: int) -> LessonProgress | None:
    """A quiz passed or an assignment graded as passing completes its lesson (assessments calls this).

    The grade is a fact once given, so the access policy is not asked again here; people
    without an enrollment that opens lessons (staff trying a quiz) record nothing.
    Two statements (ADR 0202): the enrollment locked; then one statement that completes the
    progress row, counts the other completed required lessons and updates the enrollment
    from that count (what `_touch` writes).
    """
    outline = outline_for(course)
    lesson = outline.lesson(lesson_id)
    if lesson.kind not in (LessonKind.QUIZ, LessonKind.ASSIGNMENT):
        raise EnrollmentError("Only quiz and assignment lessons complete by grading.")
    enrollment = _enrollment_locked(user=user, course=course)
    if enrollment is None or not enrollment.opens_lessons:
        return None
    progress, newly, completes = _progress_complete(
        user=user, course=course, lesson_id=lesson.id, outline=outline, enrollment=enrollment
    )
    if newly:
        _track_after_commit(
            "lesson.completed", user.pk, course_id=progress.course_id, lesson_id=progress.lesson_id
        )
        emit("lesson.completed", data=lambda: _lesson_completed_data(progress))
    if completes:  # what _recompute does when the last required lesson is done
        _track_after_commit("enrollment.completed", enrollment.user_id, course_id=enrollment.course_id)
        _announce("enrollment.completed", enrollment)
    # The statement wrote what enrollment.save(update_fields=TOUCHED_FIELDS) would have; its
    # receivers (the learner-state cache, the certificate check) are told as save() tells them.
    post_save.send(
        sender=Enrollment,
        instance=enrollment,
        created=False,
        update_fields=frozenset(TOUCHED_FIELDS),
        raw=False,
        using=connection.alias,
    )
    return progress


_ENROLLMENT_FIELDS = Enrollment._meta.concrete_fields
_ENROLLMENT_LOCK_SQL = f"""
    SELECT {", ".join(f.column for f in _ENROLLMENT_FIELDS)} FROM {Enrollment._meta.db_table}
    WHERE user_id = %s AND course_id = %s FOR UPDATE
"""  # noqa: S608 - table and column names from the model, values as placeholders


def _enrollment_locked(*, user, course: Course) -> Enrollment | None:
    """The learner's enrollment in the course, its row locked (select_for_update().first())."""
    with connection.cursor() as cursor:
        cursor.execute(_ENROLLMENT_LOCK_SQL, [user.pk, course.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    enrollment = Enrollment.from_db(connection.alias, [f.attname for f in _ENROLLMENT_FIELDS], row)
    enrollment.user = user
    enrollment.course = course
    return enrollment


_PROGRESS_FIELDS = LessonProgress._meta.concrete_fields
# Built once from the model's own names; only placeholders vary. The enrollment's new percent
# is looked up in %(percents)s by the number of completed required lessons (Python's rounding,
# computed by the caller for every possible count), and it completes when %(completes_at)s of
# them are done (never, when that is NULL).
_PROGRESS_COMPLETE_SQL = f"""
    WITH up AS (
        INSERT INTO {LessonProgress._meta.db_table} AS p (user_id, lesson_id, course_id, status, percent,
            time_spent_seconds, last_position_seconds, watched_seconds, started_at, completed_at, updated_at)
        VALUES (%(user)s, %(lesson)s, %(course)s, %(completed)s, 100, 0, 0, 0, %(now)s, %(now)s, %(now)s)
        ON CONFLICT (user_id, lesson_id) DO UPDATE SET
            status = EXCLUDED.status,
            percent = 100,
            completed_at = CASE WHEN p.status = %(completed)s THEN p.completed_at
                                ELSE EXCLUDED.completed_at END,
            updated_at = EXCLUDED.updated_at
        RETURNING *
    ), done AS (
        SELECT count(*) + %(this_required)s AS n FROM {LessonProgress._meta.db_table} AS o
        WHERE o.user_id = %(user)s AND o.status = %(completed)s
          AND o.lesson_id = ANY(%(required)s) AND o.lesson_id <> %(lesson)s
    ), e AS (
        UPDATE {Enrollment._meta.db_table} AS e SET
            last_lesson_id = %(lesson)s,
            last_activity_at = %(now)s,
            progress_percent = (%(percents)s::integer[])[done.n + 1],
            status = CASE WHEN done.n = %(completes_at)s THEN %(enrollment_completed)s ELSE e.status END,
            completed_at = CASE WHEN done.n = %(completes_at)s THEN %(now)s ELSE e.completed_at END,
            updated_at = %(now)s
        FROM done WHERE e.id = %(enrollment)s
        RETURNING e.progress_percent, e.status, e.completed_at
    )
    SELECT {", ".join(f"up.{f.column}" for f in _PROGRESS_FIELDS)},
        e.progress_percent, e.status, e.completed_at
    FROM up, e
"""  # noqa: S608 - table and column names from the model, values as placeholders


def _progress_complete(
    *, user, course: Course, lesson_id: int, outline: Outline, enrollment: Enrollment
) -> tuple[LessonProgress, bool, bool]:
    """Complete the learner's progress row of a lesson (creating it if need be) and bring the
    enrollment up to date (`_touch`), in one statement.

    Returns (the row, whether it was completed just now, whether the enrollment was completed
    just now); `enrollment` is left as written. The caller holds the enrollment's row lock,
    which every progress write of this learner in this course takes first, and this
    statement's snapshot is taken after that lock: the count of completed required lessons is
    as fresh as a query of its own. A row completed before keeps its completion time, which
    is how "just now" is told apart. The count leaves this lesson out (the statement does not
    see its own upsert) and adds it back when it is required.
    """
    now = timezone.now()
    required = outline.required_ids
    may_complete = bool(required) and enrollment.status == EnrollmentStatus.ACTIVE
    params = {
        "user": user.pk,
        "lesson": lesson_id,
        "course": course.pk,
        "completed": str(ProgressStatus.COMPLETED),
        "now": now,
        "required": list(required),
        "this_required": int(lesson_id in required),
        "percents": [round(100 * done / len(required)) for done in range(len(required) + 1)]
        if required
        else [100],
        "completes_at": len(required) if may_complete else None,
        "enrollment_completed": str(EnrollmentStatus.COMPLETED),
        "enrollment": enrollment.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PROGRESS_COMPLETE_SQL, params)
        *values, percent, status, completed_at = cursor.fetchone()
    progress = LessonProgress.from_db(connection.alias, [f.attname for f in _PROGRESS_FIELDS], values)
    progress.user = user
    if progress.course_id == course.pk:
        progress.course = course
    completes = status != enrollment.status
    enrollment.last_lesson_id = lesson_id
    enrollment.last_activity_at = enrollment.updated_at = now
    enrollment.progress_percent, enrollment.status, enrollment.completed_at = percent, status, completed_at
    return progress, progress.completed_at == now, completes


def _mark_completed(progress: LessonProgress) -> None:
    newly = progress.status != ProgressStatus.COMPLETED
    if newly:
        progress.status = ProgressStatus.COMPLETED
        progress.completed_at = timezone.now()
        _track_after_commit(
            "lesson.completed", progress.user_id, course_id=progress.course_id, lesson_id=progress.lesson_id
        )
    progress.percent = 100
    progress.save()
    if newly:
        emit("lesson.completed", data=lambda: _lesson_completed_data(progress))


def video_duration_source_set(source: Callable[[PublishedLesson], float | None]) -> None:
    """Where the transcoder's measured duration of a lesson's video comes from.

    media_delivery knows it, and sits above this app in the import layers, so it registers
    its lookup when it loads (media_delivery.apps) instead of this module importing it.
    """
    global _video_duration
    _video_duration = source


def _no_measured_duration(lesson: PublishedLesson) -> float | None:
    return None


_video_duration: Callable[[PublishedLesson], float | None] = _no_measured_duration


def _watched_since_last_heartbeat(
    progress: LessonProgress, *, position: float, claimed: float, now: datetime
) -> float:
    """Seconds of watching this heartbeat may add: the least of what the player claims, how far
    the position moved since the last heartbeat, and what the wall-clock time since then allows
    (the bound that matters: no sequence of heartbeats adds up to more than real time)."""
    if progress.heartbeat_at is not None:
        since, last_position = progress.heartbeat_at, progress.heartbeat_position or 0.0
    else:  # the first heartbeat: measured from when the learner first opened the lesson
        since, last_position = progress.started_at, float(progress.last_position_seconds)
    elapsed = min(max((now - since).total_seconds(), 0.0), MAX_HEARTBEAT_SECONDS)
    # The tolerance (network jitter) never exceeds the time that passed: a burst of
    # heartbeats within a second adds up to about a second, not a tolerance each.
    allowed = elapsed * settings.VIDEO_MAX_PLAYBACK_RATE + min(HEARTBEAT_TOLERANCE_SECONDS, elapsed)
    # Ahead of the last heartbeat: no more than the distance. At or behind it, the learner went
    # back (to watch again, say) and played from somewhere before `position`.
    moved = position - last_position if position > last_position else position
    return max(0.0, min(claimed, moved, allowed))


@transaction.atomic
def video_progress_record(
    *,
    user,
    course: Course,
    lesson_id: int,
    position: float,
    duration: float,
    watched_seconds: float,
    now: datetime | None = None,
) -> LessonProgress:
    """A player heartbeat: where the learner is, and the seconds watched since the last one.

    The server counts the watching itself (ADR 0076): each heartbeat adds at most the
    wall-clock time since the previous one and at most how far the position moved; the
    lesson completes once the count reaches VIDEO_COMPLETE_PERCENT of the duration the
    transcoder measured. The player's `duration` is never believed; without a measured
    duration the watching is counted but does not complete the lesson.
    """
    outline = outline_for(course)
    lesson = outline.lesson(lesson_id)
    if lesson.kind != LessonKind.VIDEO:
        raise EnrollmentError("This lesson has no video.")
    for name, value in (("position", position), ("duration", duration), ("watched_seconds", watched_seconds)):
        if not isinstance(value, int | float) or value < 0 or value > 10 * 24 * 3600:
            raise EnrollmentError(f"'{name}' must be a number of seconds.")
    progress, enrollment = _progress_for(user=user, course=course, lesson=lesson, outline=outline)
    if enrollment is None or not enrollment.opens_lessons:
        return progress
    now = now or timezone.now()  # read after the row lock: concurrent heartbeats queue up
    measured = _video_duration(lesson)
    if measured is not None and measured > 0:
        position = min(position, measured)
    else:
        measured = None
    added = _watched_since_last_heartbeat(progress, position=position, claimed=watched_seconds, now=now)
    progress.watched_seconds += added
    progress.time_spent_seconds += round(added)
    progress.heartbeat_at, progress.heartbeat_position = now, position
    progress.last_position_seconds = int(position)
    if measured is not None:
        progress.percent = max(
            progress.percent, min(100, math.floor(100 * progress.watched_seconds / measured))
        )
        if progress.watched_seconds >= measured * settings.VIDEO_COMPLETE_PERCENT / 100:
            _mark_completed(progress)
        else:
            progress.save()
    else:
        progress.save()
    _touch(enrollment, lesson.id, outline)
    return progress


# Statuses staff may set directly (pending/rejected go through requests, completed through progress).
SETTABLE_STATUSES = frozenset({EnrollmentStatus.ACTIVE, EnrollmentStatus.AUDITING, EnrollmentStatus.BLOCKED})


@transaction.atomic
def enrollment_set_access(
    *, actor, enrollment: Enrollment, status: str, starts_at=None, ends_at=None
) -> Enrollment:
    """Course staff set a learner's status (active, auditing, blocked) and access window."""
    from .access import is_course_staff

    if not is_course_staff(actor, enrollment.course):
        raise EnrollmentError("Only the course's staff can change a learner's access.")
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    keep_completed = status == EnrollmentStatus.ACTIVE and enrollment.status == EnrollmentStatus.COMPLETED
    if status not in SETTABLE_STATUSES and not keep_completed:
        raise EnrollmentError("Choose active, auditing or blocked.")
    if enrollment.status in (EnrollmentStatus.PENDING, EnrollmentStatus.REJECTED):
        raise EnrollmentError("This is a request to join: approve or decline it first.")
    if starts_at and ends_at and ends_at <= starts_at:
        raise EnrollmentError("The access window must end after it starts.")
    before = {
        "status": enrollment.status,
        "starts": _iso(enrollment.access_starts_at),
        "ends": _iso(enrollment.access_ends_at),
    }
    if not keep_completed:
        enrollment.status = status
    enrollment.access_starts_at, enrollment.access_ends_at = starts_at, ends_at
    if enrollment.status == EnrollmentStatus.ACTIVE and enrollment.enrolled_at is None:
        enrollment.enrolled_at = timezone.now()
    enrollment.save()
    audit_record(
        actor=actor,
        action="enrollment.access_changed",
        target=enrollment,
        before=before,
        after={"status": enrollment.status, "starts": _iso(starts_at), "ends": _iso(ends_at)},
    )
    return enrollment


def _track_after_commit(event_type: str, user_id: int, **payload) -> None:
    """A learner event for analytics, sent only if the transaction commits (never raises)."""
    transaction.on_commit(lambda: track(event_type, user_id=user_id, payload=payload))


def _enrollment_data(enrollment: Enrollment, **extra) -> dict:
    return {
        "enrollment_id": enrollment.pk,
        "status": enrollment.status,
        "enrolled_at": _iso(enrollment.enrolled_at),
        "completed_at": _iso(enrollment.completed_at),
        "course": course_data(enrollment.course),
        "user": person_data(enrollment.user),
        **extra,
    }


def _announce(event_type: str, enrollment: Enrollment, **extra) -> None:
    """A domain event about an enrollment (webhooks), described only if someone listens."""
    emit(event_type, data=lambda: _enrollment_data(enrollment, **extra))


def _lesson_completed_data(progress: LessonProgress) -> dict:
    lesson = progress.lesson
    return {
        "lesson": {"id": lesson.pk, "title": lesson.title, "kind": lesson.kind},
        "completed_at": _iso(progress.completed_at),
        "course": course_data(progress.course),
        "user": person_data(progress.user),
    }


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
