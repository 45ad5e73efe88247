"""quiz_submit_rps: handing in a 20-question quiz attempt (the no-JavaScript form post), under gunicorn.

Every request is a real first submission: a different learner's open attempt, with all 20
answers in the form body, so the server saves 20 answers, grades them, passes the learner
and completes the quiz lesson. (A repeated submission is answered from the stored result and
would be much cheaper, so the run fails rather than reuse an attempt.)

Setup (in the `perf` tenant of the development database): the course `bench-quiz` with one
20-question quiz, LEARNERS enrolled benchmark learners, each with a signed-in session and
a freshly opened attempt (opened again on every run).

Baseline, same server, same run: the minimal view /bench/minimal on the same tenant host.
"""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from assessments.models import Assessment, Attempt, Choice, Question, QuestionKind
from assessments.services import draw_questions
from bench.common import BENCH_SECRET, BENCH_TENANT, bench_tenant_ensure, gunicorn, write_result, wrk
from courses.models import Course, Lesson, LessonKind, Module
from courses.services import course_publish
from enrollments.models import Enrollment, EnrollmentStatus, LessonProgress

TENANT = BENCH_TENANT
SLUG = "bench-quiz"
QUESTIONS = 20
LEARNERS = 5000  # a hand-in each: enough for 8 s at the goal rate (0.15 of ~2,200/s) and the unloaded run
CONNECTIONS = 16
SECONDS = 8
CSRF = "b" * 32  # the same value as cookie and header: Django's CSRF check passes, nothing else does


@transaction.atomic
def _course_create() -> Course:
    instructor = get_user_model().objects.get(email=f"instructor@{TENANT}.test")
    course = Course.objects.create(title="Benchmark: a 20-question quiz", slug=SLUG)
    course.instructors.add(instructor)
    module = Module.objects.create(course=course, title="Quiz", position=0)
    lesson = Lesson.objects.create(
        module=module, title="Twenty questions", kind=LessonKind.QUIZ, body="Quiz."
    )
    assessment = Assessment.objects.create(lesson=lesson, passing_score=Decimal("50"))
    kinds = [QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE, QuestionKind.SHORT]
    for n in range(QUESTIONS):
        kind = kinds[n % len(kinds)] if n < QUESTIONS - 4 else QuestionKind.NUMERIC
        question = Question.objects.create(
            assessment=assessment,
            kind=kind,
            prompt=f"Question {n + 1}",
            position=n,
            correct_true=True if kind == QuestionKind.TRUE_FALSE else None,
            accepted_answers="answer" if kind == QuestionKind.SHORT else "",
            numeric_answer=Decimal("42") if kind == QuestionKind.NUMERIC else None,
            tolerance=Decimal("0.5"),
            partial_credit=kind == QuestionKind.MULTIPLE,
        )
        for c in range(4):
            if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
                Choice.objects.create(
                    question=question,
                    text=f"Choice {c}",
                    is_correct=c < 2 if kind == "multiple" else c == 0,
                    position=c,
                )
    course_publish(actor=instructor, course=course, summary="Benchmark quiz.")
    course.refresh_from_db()
    return course


def _form_body(assessment: Assessment) -> str:
    from urllib.parse import urlencode

    # The attempt form with the hand-in confirmed: save the answers and hand in, one request.
    fields = [("csrfmiddlewaretoken", CSRF), ("form", "attempt"), ("confirm", "1")]
    for question in assessment.questions.prefetch_related("choices"):
        right = [c.pk for c in question.choices.all() if c.is_correct]
        name = f"q{question.pk}"
        if question.kind == QuestionKind.SINGLE:
            fields.append((name, right[0]))
        elif question.kind == QuestionKind.MULTIPLE:
            fields += [(name, pk) for pk in right]
        elif question.kind == QuestionKind.TRUE_FALSE:
            fields.append((name, "true"))
        elif question.kind == QuestionKind.SHORT:
            fields.append((name, "Answer"))
        else:
            fields.append((name, "42.25"))
    return urlencode(fields)


def prepare() -> tuple[list[tuple[str, str]], str, int]:
    """(submit path, cookie) per learner with a fresh open attempt; the form body; the assessment id."""
    bench_tenant_ensure()
    User = get_user_model()
    with schema_context(TENANT):
        course = Course.objects.filter(slug=SLUG).first() or _course_create()
        assessment = Assessment.objects.get(lesson__module__course=course)
        existing = set(User.objects.filter(email__startswith="quizzer-").values_list("email", flat=True))
        missing = [
            f"quizzer-{n}@{TENANT}.test"
            for n in range(LEARNERS)
            if f"quizzer-{n}@{TENANT}.test" not in existing
        ]
        for email in missing:
            user = User(email=email, role="learner", full_name="Bench Quizzer")
            user.set_unusable_password()
            user.save()
        learners = list(User.objects.filter(email__startswith="quizzer-").order_by("pk")[:LEARNERS])
        now = timezone.now()
        with transaction.atomic():
            # Each run starts from scratch: no attempts, no completed quiz lesson.
            Attempt.objects.filter(assessment=assessment).delete()
            LessonProgress.objects.filter(course=course).delete()
            enrolled = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
            Enrollment.objects.bulk_create(
                Enrollment(user=u, course=course, status=EnrollmentStatus.ACTIVE, enrolled_at=now)
                for u in learners
                if u.pk not in enrolled
            )
            Enrollment.objects.filter(course=course).update(
                status=EnrollmentStatus.ACTIVE, progress_percent=0
            )
            questions = draw_questions(assessment)
            attempts = Attempt.objects.bulk_create(
                Attempt(assessment=assessment, user=u, number=1, started_at=now, questions=questions)
                for u in learners
            )
        from django.core.cache import cache

        cache.clear()  # the learner-state cache still holds the enrollments reset above
        # As after the attempt page: its autosave (static/js/quiz.js, 400 ms after each answer)
        # has just loaded the learner, so the user's entry is in the cache (ADR 0050) when they
        # hand in. What a hand-in costs is measured, not a first visit's user SELECT.
        from accounts.cache import USER_SECONDS, user_cache_key

        for start in range(0, len(learners), 500):
            chunk = learners[start : start + 500]
            cache.set_many({user_cache_key(u.pk): u for u in chunk}, USER_SECONDS)
        targets = []
        with override_settings(SECRET_KEY=BENCH_SECRET):
            for user, attempt in zip(learners, attempts, strict=True):
                session = SessionStore()
                session[SESSION_KEY] = str(user.pk)
                session[BACKEND_SESSION_KEY] = "accounts.backends.RoleBackend"
                session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                session.create()
                cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}; csrftoken={CSRF}"
                targets.append((f"/assessments/{SLUG}/attempts/{attempt.pk}/submit/", cookie))
        return targets, _form_body(assessment), assessment.pk


def _lua(targets: list[tuple[str, str]], body: str) -> str:
    rows = ",\n".join(f'{{"{path}", "{cookie}"}}' for path, cookie in targets)
    return f"""
local targets = {{
{rows}
}}
local i = 0
wrk.method = "POST"
wrk.body = "{body}"
request = function()
  i = i + 1
  if i > #targets then i = #targets end
  local t = targets[i]
  return wrk.format("POST", t[1], {{
    ["Cookie"] = t[2],
    ["X-CSRFToken"] = "{CSRF}",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }}, wrk.body)
end
"""


def run() -> dict:
    targets, body, assessment_id = prepare()
    load_before = os.getloadavg()
    host = f"{TENANT}.localhost"
    # The loaded run and the unloaded one get different attempts (each script starts at its first).
    folder = Path(tempfile.mkdtemp())
    half = len(targets) * 2 // 3
    loaded_script, unloaded_script = folder / "loaded.lua", folder / "unloaded.lua"
    loaded_script.write_text(_lua(targets[:half], body))
    unloaded_script.write_text(_lua(targets[half:], body))
    with gunicorn(workers=2) as port:
        base = f"http://127.0.0.1:{port}"
        wrk(f"{base}/bench/minimal", host=host, seconds=2)  # warm-up
        baseline = wrk(f"{base}/bench/minimal", host=host, connections=CONNECTIONS, seconds=SECONDS)
        submit = wrk(
            f"{base}/bench/minimal",
            host=host,
            connections=CONNECTIONS,
            seconds=SECONDS,
            script=str(loaded_script),
        )
        # One connection per worker: the service time of a submission without queueing.
        unloaded = wrk(
            f"{base}/bench/minimal", host=host, connections=2, seconds=4, script=str(unloaded_script)
        )
    with schema_context(TENANT):
        graded = Attempt.objects.filter(assessment_id=assessment_id, status="graded")
        passed = graded.filter(passed=True).count()
        total = graded.count()
    if submit["requests"] >= half or unloaded["requests"] >= len(targets) - half:
        raise RuntimeError(f"the {len(targets)} prepared attempts ran out: raise LEARNERS")
    # A request slower than wrk's 2 s timeout on the loaded machine is recorded, not fatal.
    connect_failed = "connect 0," not in (submit["socket_errors"] or "connect 0,")
    if submit["non_2xx"] or unloaded["non_2xx"] or connect_failed or total == 0 or passed != total:
        raise RuntimeError(f"submissions failed: {submit}, {total} graded, {passed} passed")
    return write_result(
        "quiz_submit_rps",
        submit["rps"],
        "requests/s",
        "minimal_django_view_rps",
        baseline["rps"],
        {
            "request": f"POST /assessments/{SLUG}/attempts/<id>/submit/ on {host}: {QUESTIONS} answers "
            "in the form body with form=attempt&confirm=1 (the attempt form, hand-in confirmed), a "
            "different learner's open attempt each time; saved, graded, passed, lesson completed; "
            "answered 302",
            "users": "each learner's cache entry warm, as the attempt page's autosave leaves it (the "
            "session user's SELECT of a first visit is not part of a hand-in)",
            "queries_per_hand_in": "7 statements in one request (bench.profile_request quiz prints 8: "
            "its learners' entries are cold), of which SET search_path, BEGIN and COMMIT are 3; 3 more "
            "when a webhook endpoint listens to lesson.completed (message, delivery, due); was 12 "
            "(ADR 0202), 29 before ADR 0116. assessments/tests/test_submit_queries.py pins 7 "
            "(HAND_IN_QUERIES, was 10)",
            "load_average_1_5_15": {
                "before": [round(x, 2) for x in load_before],
                "after": [round(x, 2) for x in os.getloadavg()],
            },
            "server": "gunicorn, 2 sync workers, DEBUG=False",
            "load": f"wrk, 1 thread, {CONNECTIONS} connections, {SECONDS} s, loopback",
            "submissions_graded": total,
            "socket_errors": submit["socket_errors"],
            "submit_latency": {k: v for k, v in submit.items() if k.startswith("p")},
            "baseline_latency": {k: v for k, v in baseline.items() if k.startswith("p")},
            "unloaded_submit": {
                "connections": 2,
                "rps": unloaded["rps"],
                **{k: v for k, v in unloaded.items() if k.startswith("p")},
            },
        },
    )
