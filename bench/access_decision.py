"""access_decision_us: a warm access decision for a lesson with drip and two prerequisites.

Warm: the course outline, the enrollment and the completed lessons are loaded (as on a
lesson page); what is timed is the policy itself, per call, in microseconds. Baseline in
the same run: an allow-all function with the same signature.
"""

import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from bench.common import BENCH_TENANT, bench_tenant_ensure, write_result
from courses.models import Course, CourseStatus
from courses.selectors import outline_for
from courses.services import course_publish, lesson_set_prerequisites
from courses.tests.factories import lessons_of, make_course
from enrollments.access import ALLOW, lesson_decision
from enrollments.models import Enrollment
from enrollments.services import enrollment_create

SLUG = "bench-gated"
CALLS = 50_000


def allow_all(*, user, course, lesson, enrollment, completed=None, titles=None, now=None):
    return ALLOW


@transaction.atomic
def _course() -> Course:
    course = Course.objects.filter(slug=SLUG).first()
    if course is not None:
        return course
    admin = get_user_model().objects.get(email=f"admin@{BENCH_TENANT}.test")
    course = make_course(slug=SLUG, title="Benchmark: gated lesson", lessons=3, publish=False)
    first, second, gated = lessons_of(course)
    gated.drip_days = 2
    gated.save()
    lesson_set_prerequisites(actor=admin, lesson=gated, prerequisites=[first, second])
    course_publish(actor=admin, course=course)
    course.refresh_from_db()
    return course


def _percentiles(samples_ns: list[int]) -> dict:
    ordered = sorted(samples_ns)
    return {
        "p50_us": round(statistics.median(ordered) / 1000, 3),
        "p99_us": round(ordered[int(len(ordered) * 0.99)] / 1000, 3),
    }


def _time(function, **kwargs) -> list[int]:
    for _ in range(2000):
        function(**kwargs)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(CALLS):
        started = clock()
        function(**kwargs)
        samples.append(clock() - started)
    return samples


def run() -> dict:
    bench_tenant_ensure()
    with schema_context(BENCH_TENANT):
        course = _course()
        assert course.status == CourseStatus.PUBLISHED
        learner = get_user_model().objects.get(email=f"learner@{BENCH_TENANT}.test")
        enrollment = Enrollment.objects.filter(user=learner, course=course).first() or enrollment_create(
            user=learner, course=course
        )
        outline = outline_for(course)
        lesson = outline.lessons[-1]
        completed = {outline.lessons[0].id, outline.lessons[1].id}
        now = (enrollment.enrolled_at or timezone.now()) + timedelta(
            days=3
        )  # open: drip passed, prerequisites done
        args = dict(
            user=learner,
            course=course,
            lesson=lesson,
            enrollment=enrollment,
            completed=completed,
            titles=outline.titles,
            now=now,
        )
        assert lesson_decision(**args).allowed
        policy = _percentiles(_time(lesson_decision, **args))
        baseline = _percentiles(_time(allow_all, **args))
    return write_result(
        "access_decision_us",
        policy["p99_us"],
        "us (p99)",
        "allow_all_call_us_p99",
        baseline["p99_us"],
        {
            "decision": "enrolled learner; lesson with a 2-day drip and two completed prerequisites",
            "policy": policy,
            "baseline": baseline,
            "calls": CALLS,
            "goal": "p99 < 50 us",
            "goal_met": policy["p99_us"] < 50,
        },
    )
