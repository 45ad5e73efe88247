"""Recompute the reporting tables of the active tenant from the source tables."""

from __future__ import annotations

from django.db import connection, transaction

# Counters that the source tables can answer for. Quiz columns (quiz attempts, scores,
# certificates, the item table) come from the assessments app's tables once it exists;
# until then a rebuild keeps what the event stream built for them.
REBUILD_SQL = [
    """UPDATE analytics_courseday SET new_enrollments = 0, lesson_completions = 0,
        course_completions = 0, seconds_watched = 0""",
    """INSERT INTO analytics_courseday AS t (course_id, day, new_enrollments, lesson_completions,
            course_completions, seconds_watched, quiz_attempts, score_sum, certificates)
        SELECT course_id, day, sum(e), sum(l), sum(c), sum(s), 0, 0, 0 FROM (
            SELECT course_id, (enrolled_at AT TIME ZONE 'UTC')::date AS day, 1 AS e, 0 AS l, 0 AS c, 0 AS s
                FROM enrollments_enrollment WHERE enrolled_at IS NOT NULL
            UNION ALL
            SELECT course_id, (completed_at AT TIME ZONE 'UTC')::date, 0, 0, 1, 0
                FROM enrollments_enrollment WHERE completed_at IS NOT NULL
            UNION ALL
            SELECT course_id, (completed_at AT TIME ZONE 'UTC')::date, 0, 1, 0, 0
                FROM enrollments_lessonprogress WHERE completed_at IS NOT NULL
            UNION ALL
            SELECT course_id, (updated_at AT TIME ZONE 'UTC')::date, 0, 0, 0, time_spent_seconds
                FROM enrollments_lessonprogress WHERE time_spent_seconds > 0
        ) AS source GROUP BY course_id, day
        ON CONFLICT (course_id, day) DO UPDATE SET
            new_enrollments = EXCLUDED.new_enrollments,
            lesson_completions = EXCLUDED.lesson_completions,
            course_completions = EXCLUDED.course_completions,
            seconds_watched = EXCLUDED.seconds_watched""",
    "DELETE FROM analytics_learnerday",
    """INSERT INTO analytics_learnerday (course_id, day, user_id)
        SELECT DISTINCT course_id, day, user_id FROM (
            SELECT course_id, (enrolled_at AT TIME ZONE 'UTC')::date AS day, user_id
                FROM enrollments_enrollment WHERE enrolled_at IS NOT NULL
            UNION ALL
            SELECT course_id, (last_activity_at AT TIME ZONE 'UTC')::date, user_id
                FROM enrollments_enrollment WHERE last_activity_at IS NOT NULL AND enrolled_at IS NOT NULL
            UNION ALL
            SELECT course_id, (started_at AT TIME ZONE 'UTC')::date, user_id FROM enrollments_lessonprogress
            UNION ALL
            SELECT course_id, (completed_at AT TIME ZONE 'UTC')::date, user_id
                FROM enrollments_lessonprogress WHERE completed_at IS NOT NULL
        ) AS source""",
    "DELETE FROM analytics_lessonlearner",
    """INSERT INTO analytics_lessonlearner (course_id, lesson_id, user_id, viewed, completed, watch_percent)
        SELECT course_id, lesson_id, user_id, true, status = 'completed', percent
        FROM enrollments_lessonprogress""",
    "DELETE FROM analytics_learnercourse",
    """INSERT INTO analytics_learnercourse (course_id, user_id, last_active, seconds_spent)
        SELECT e.course_id, e.user_id, coalesce(e.last_activity_at, e.enrolled_at, e.requested_at),
               coalesce((SELECT sum(p.time_spent_seconds) FROM enrollments_lessonprogress p
                         WHERE p.user_id = e.user_id AND p.course_id = e.course_id), 0)
        FROM enrollments_enrollment e WHERE e.enrolled_at IS NOT NULL""",
]


@transaction.atomic
def report_rebuild() -> dict[str, int]:
    """Recompute the active tenant's reports from enrollments and lesson progress, in one transaction.

    Events already in ProcessedEvent stay there, so the stream never adds them again on top.
    Returns the row count of each rebuilt table.
    """
    if connection.schema_name == "public":
        raise RuntimeError("report_rebuild needs a tenant; the connection is on public.")
    counts = {}
    with connection.cursor() as cursor:
        for statement in REBUILD_SQL:
            cursor.execute(statement)
        for table in ("courseday", "learnerday", "lessonlearner", "learnercourse"):
            cursor.execute(f"SELECT count(*) FROM analytics_{table}")  # noqa: S608 - fixed names
            counts[table] = cursor.fetchone()[0]
    return counts
