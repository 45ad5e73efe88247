"""Video completion counts the watching the server saw, not what the player claims (ADR 0076).

Heartbeats carry an injected clock (`now=`): no test sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from courses.models import LessonKind
from courses.services import course_publish
from courses.tests.factories import lessons_of, make_course
from enrollments.models import LessonProgress, ProgressStatus
from enrollments.services import enrollment_create, lesson_open, video_progress_record
from media_delivery.models import AssetKind, AssetStatus, MediaAsset
from tenants.context import storage_prefix

User = get_user_model()
HALF_HOUR = 30 * 60


def measure(lesson, seconds: float) -> MediaAsset:
    """What the transcoder records for the lesson's video (media_delivery.tasks)."""
    # Saving the lesson may have registered the file already (media_delivery.signals).
    asset, _ = MediaAsset.objects.update_or_create(
        key=storage_prefix() + lesson.video.name,
        defaults={
            "kind": AssetKind.VIDEO,
            "status": AssetStatus.READY,
            "lesson": lesson,
            "duration_seconds": seconds,
        },
    )
    return asset


def video_course(slug: str):
    course = make_course(slug=slug, lessons=2, publish=False)
    lesson = lessons_of(course)[0]
    lesson.kind, lesson.video.name = LessonKind.VIDEO, f"lessons/video/{slug}.mp4"
    lesson.save()
    course_publish(actor=User.objects.get(email__startswith="admin@"), course=course)
    course.refresh_from_db()
    return course, lesson


@pytest.fixture
def learner(in_tenant):
    return User.objects.get(email="learner@acme.test")


@pytest.fixture
def film(learner):
    """A half-hour video lesson the transcoder measured, and an enrolled learner."""
    course, lesson = video_course("film")
    measure(lesson, HALF_HOUR)
    enrollment_create(user=learner, course=course)
    return course, lesson


class Player:
    """A player sending heartbeats on an injected clock."""

    def __init__(self, learner, course, lesson):
        self.learner, self.course, self.lesson = learner, course, lesson
        self.clock = timezone.now()

    def beat(self, *, after: float, position: float, watched: float, duration: float = HALF_HOUR):
        self.clock += timedelta(seconds=after)
        return video_progress_record(
            user=self.learner,
            course=self.course,
            lesson_id=self.lesson.pk,
            position=position,
            duration=duration,
            watched_seconds=watched,
            now=self.clock,
        )

    def watch(self, *, seconds: float, speed: float = 1.0, every: float = 15.0, start: float = 0.0):
        """Honest playback from `start`: a heartbeat every `every` wall-clock seconds."""
        progress, position = None, start
        while position < start + seconds:
            step = min(every * speed, start + seconds - position)
            position += step
            progress = self.beat(after=step / speed, position=position, watched=step)
        return progress


def test_the_hostile_payload_does_not_complete_a_half_hour_video(learner, film):
    course, lesson = film
    player = Player(learner, course, lesson)
    for _ in range(3):
        progress = player.beat(after=1, position=1, watched=0, duration=1)
    assert progress.status == ProgressStatus.IN_PROGRESS
    assert progress.percent == 0 and progress.watched_seconds <= 1


def test_a_burst_claiming_half_an_hour_within_a_second_does_not_complete(learner, film):
    course, lesson = film
    player = Player(learner, course, lesson)
    player.beat(after=0, position=0, watched=0)
    for n in range(1, 121):  # 120 heartbeats of "15 s more" within one second
        progress = player.beat(after=1 / 120, position=15 * n, watched=15)
    assert progress.last_position_seconds == HALF_HOUR  # the position is believed (resume)...
    assert progress.status == ProgressStatus.IN_PROGRESS  # ...the watching is not
    assert progress.watched_seconds <= 3.01  # about a second at double speed, plus jitter


def test_honest_playback_completes_at_ninety_percent_of_the_measured_duration(learner, film):
    course, lesson = film
    player = Player(learner, course, lesson)
    player.beat(after=0, position=0, watched=0)  # play pressed
    progress = player.watch(seconds=0.9 * HALF_HOUR - 15)
    assert progress.status == ProgressStatus.IN_PROGRESS and progress.percent == 89
    progress = player.watch(seconds=15, start=0.9 * HALF_HOUR - 15)
    assert progress.status == ProgressStatus.COMPLETED and progress.percent == 100
    assert progress.watched_seconds == 0.9 * HALF_HOUR
    assert progress.time_spent_seconds == 0.9 * HALF_HOUR and progress.last_position_seconds == 1620


def test_double_speed_counts_in_full_and_faster_only_as_double(learner, film):
    course, lesson = film
    player = Player(learner, course, lesson)
    player.beat(after=0, position=0, watched=0)
    progress = player.watch(seconds=600, speed=2)  # 5 minutes of wall-clock time
    assert progress.watched_seconds == 600
    progress = player.watch(seconds=600, speed=4, start=600)  # 2.5 minutes more
    # 15 s between heartbeats allow 2 x 15 s plus 2 s of jitter, not 60 s.
    assert progress.watched_seconds == pytest.approx(600 + 10 * 32)


def test_seeking_ahead_or_coming_back_later_counts_only_the_watching(learner, film):
    course, lesson = film
    player = Player(learner, course, lesson)
    player.beat(after=0, position=0, watched=0)
    player.watch(seconds=30)
    progress = player.beat(after=15, position=1700, watched=15)  # jumped near the end, played 15 s
    assert progress.watched_seconds == 45
    # An hour later, one heartbeat claiming the rest: no heartbeat covers more than a minute.
    progress = player.beat(after=3600, position=HALF_HOUR, watched=HALF_HOUR)
    assert progress.watched_seconds <= 45 + 60 * 2 + 2
    assert progress.status == ProgressStatus.IN_PROGRESS


def test_the_first_heartbeat_counts_from_when_the_lesson_was_opened(learner, film):
    course, lesson = film
    lesson_open(user=learner, course=course, lesson_id=lesson.pk)
    opened = timezone.now() - timedelta(seconds=20)
    LessonProgress.objects.filter(user=learner, lesson=lesson).update(started_at=opened)
    progress = video_progress_record(
        user=learner,
        course=course,
        lesson_id=lesson.pk,
        position=15,
        duration=1,
        watched_seconds=15,
        now=opened + timedelta(seconds=16),
    )
    assert progress.watched_seconds == 15


def test_the_players_duration_is_ignored_when_the_transcoder_measured_one(learner, film):
    course, lesson = film
    player = Player(learner, course, lesson)
    player.beat(after=0, position=0, watched=0)
    progress = player.watch(seconds=90)
    progress = player.beat(after=10, position=100, watched=10, duration=100)
    assert progress.watched_seconds == 100 and progress.percent == 5
    assert progress.status == ProgressStatus.IN_PROGRESS


def test_without_a_measured_duration_watching_counts_but_does_not_complete(learner):
    course, lesson = video_course("unmeasured")
    enrollment_create(user=learner, course=course)
    player = Player(learner, course, lesson)
    player.beat(after=0, position=0, watched=0)
    progress = player.watch(seconds=120)
    assert progress.status == ProgressStatus.IN_PROGRESS
    assert (progress.watched_seconds, progress.last_position_seconds, progress.percent) == (120, 120, 0)
    measure(lesson, 130)  # the transcoder finished meanwhile: the next heartbeat completes
    progress = player.watch(seconds=10, start=120)
    assert progress.status == ProgressStatus.COMPLETED and progress.watched_seconds == 130


def test_another_tenants_measurement_of_the_same_file_name_does_not_count(learner, other_tenant):
    course, lesson = video_course("shared-name")
    enrollment_create(user=learner, course=course)
    with schema_context(other_tenant.schema_name):
        _, their_lesson = video_course("shared-name")
        measure(their_lesson, 10)
    player = Player(learner, course, lesson)
    player.beat(after=0, position=0, watched=0)
    progress = player.watch(seconds=10)
    assert progress.watched_seconds == 10 and progress.status == ProgressStatus.IN_PROGRESS


def test_watching_again_after_going_back_counts_but_never_faster_than_real_time(learner, film):
    course, lesson = film
    player = Player(learner, course, lesson)
    player.beat(after=0, position=0, watched=0)
    player.watch(seconds=60)
    # Back to the start, 15 s of watching again: behind the last heartbeat's position.
    progress = player.beat(after=15, position=15, watched=15)
    assert progress.watched_seconds == 75
    # Heartbeats that keep going "back" within a second still add up to about a second.
    for _ in range(60):
        progress = player.beat(after=1 / 60, position=10, watched=15)
    assert progress.watched_seconds <= 75 + 3.01
