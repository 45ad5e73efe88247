"""Reporting tables (in each tenant's schema), the dedupe table and the outbox.

Dashboards read only these tables, never raw events. Their primary keys are the natural
keys the consumer upserts on (no surrogate id: one index less to maintain per row).
Every table is written by the consumer (analytics/consumer.py) with set-based SQL, and
recomputed from source tables by `manage.py rebuild_reports`. Course, lesson and learner
columns are plain integers, not foreign keys: reports outlive deleted courses, and the
consumer never waits on a lock of a course row.
"""

from django.db import models


class ProcessedEvent(models.Model):
    """An event id whose effects are in the reporting tables (exactly-once effects)."""

    event_id = models.UUIDField(primary_key=True)
    processed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.event_id)


class OutboxEvent(models.Model):
    """An event track() could not hand to Redis; replayed by analytics.tasks.outbox_replay_task."""

    event_id = models.UUIDField(unique=True)
    envelope = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_id} (waiting since {self.created_at:%Y-%m-%d %H:%M})"


class CourseDay(models.Model):
    """Counters of one course on one day (UTC). Active learners: count LearnerDay rows."""

    pk = models.CompositePrimaryKey("course_id", "day")
    course_id = models.BigIntegerField()
    day = models.DateField()
    new_enrollments = models.IntegerField(default=0)
    lesson_completions = models.IntegerField(default=0)
    course_completions = models.IntegerField(default=0)
    seconds_watched = models.FloatField(default=0)
    quiz_attempts = models.IntegerField(default=0)
    score_sum = models.FloatField(default=0, help_text="Sum of score / max score over graded attempts.")
    certificates = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"course {self.course_id} on {self.day}"


class LearnerDay(models.Model):
    """A learner was active in a course on a day (the basis of active-learner counts)."""

    pk = models.CompositePrimaryKey("course_id", "day", "user_id")
    course_id = models.BigIntegerField()
    day = models.DateField()
    user_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"learner {self.user_id} in course {self.course_id} on {self.day}"


class LessonLearner(models.Model):
    """One learner's furthest point in one lesson: the basis of the lesson funnel."""

    pk = models.CompositePrimaryKey("lesson_id", "user_id")
    course_id = models.BigIntegerField()
    lesson_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    viewed = models.BooleanField(default=False)
    completed = models.BooleanField(default=False)
    watch_percent = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"learner {self.user_id} in lesson {self.lesson_id}"


class QuestionStat(models.Model):
    """Item analysis: how often a question was answered, and answered right."""

    course_id = models.BigIntegerField()
    assessment_id = models.BigIntegerField()
    question_id = models.BigIntegerField(primary_key=True)
    attempts = models.IntegerField(default=0)
    correct = models.IntegerField(default=0)
    points_sum = models.FloatField(default=0)
    max_points_sum = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"question {self.question_id}"


class LearnerCourse(models.Model):
    """A learner in a course: last active and time spent (video seconds watched)."""

    pk = models.CompositePrimaryKey("course_id", "user_id")
    course_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    last_active = models.DateTimeField()
    seconds_spent = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"learner {self.user_id} in course {self.course_id}"
