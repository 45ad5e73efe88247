"""A learner's state in a course (enrollment and lesson progress), cached across requests.

It is what every access decision and lesson page needs, and it changes only when the
learner's enrollment or progress is written. Those writes forget the entry (now, and again
after commit, since another request may have cached the old rows in between). Keys live in
the tenant's cache namespace (django_tenants.cache.make_key).
"""

from __future__ import annotations

import re

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

from accounts.sessions import session_user_hint
from core import readahead
from courses.cache import local_hint_for

from .models import Enrollment, LessonProgress

STATE_SECONDS = 300
PROGRESS_FIELDS = ("id", "user_id", "lesson_id", "course_id", "status", "percent", "last_position_seconds")


def learner_state_key(user_id: int, course_id: int) -> str:
    return f"learner-state:{user_id}:{course_id}"


def badges_key(user_id: int) -> str:
    """The learner's (course id -> status, percent) of every enrollment: the catalog's badges."""
    return f"learner-badges:{user_id}"


def learner_badges(*, user, load) -> dict:
    """The catalog's badges for `user`, from the cache (or read ahead), else `load()` and kept.

    Forgotten with the learner's state on every enrollment write (learner_state_changed)."""
    key = badges_key(user.pk)
    badges = readahead.get(key)
    if badges is None:
        badges = load()
        cache.set(key, badges, STATE_SECONDS)
    return badges


_UNREAD = object()


def learner_state(*, user, course, read=_UNREAD) -> tuple[Enrollment | None, list[LessonProgress]]:
    """The learner's enrollment (or None) and progress rows in the course.

    `read`: what the caller got for `learner_state_key` in a combined read (None on a miss).
    """
    if not user.is_authenticated:
        return None, []
    key = learner_state_key(user.pk, course.pk)
    state = cache.get(key) if read is _UNREAD else read
    if state is None:
        enrollment = Enrollment.objects.filter(user=user, course=course).first()
        rows = list(LessonProgress.objects.filter(user=user, course=course).only(*PROGRESS_FIELDS))
        state = (enrollment, rows)
        cache.set(key, state, STATE_SECONDS)
    return state


# The lesson page's path (enrollments.urls "lesson", mounted at learning/ by lms/urls_tenant.py)
# and the catalog's ("home" and "catalog" there); tests/test_readahead.py pins that these
# pages' learner entries come with the first round trip.
_LESSON_PATH = re.compile(r"/learning/(?P<slug>[-a-zA-Z0-9_]+)/lessons/[0-9]+/")
_CATALOG_PATHS = frozenset({"/", "/courses/"})


def learner_state_ahead(request, tenant) -> list[str]:
    """core.readahead provider: on a lesson page, the learner's state in its course, when this
    process knows both the session's user and the slug's course (enrollments.access reads it
    beside the courses version); on the catalog, the learner's badges. A wrong hint only reads
    a key nobody takes."""
    path = request.path_info
    match = _LESSON_PATH.fullmatch(path)
    if match is None and path not in _CATALOG_PATHS:
        return []
    user_id = session_user_hint(request, tenant)
    if user_id is None:
        return []
    if match is None:
        return [badges_key(user_id)]
    course_id = local_hint_for(tenant, "course-pk", match["slug"])
    return [] if course_id is None else [learner_state_key(user_id, course_id)]


def _forget(schema: str, keys: list[str]) -> None:
    if connection.schema_name == schema:  # still on that tenant after commit (the usual case)
        cache.delete_many(keys)
        return
    with schema_context(schema):
        cache.delete_many(keys)


def learner_state_changed(sender, instance, **_) -> None:
    """Signal receiver for Enrollment and LessonProgress writes and deletes."""
    keys = [learner_state_key(instance.user_id, instance.course_id)]
    if isinstance(instance, Enrollment):
        keys.append(badges_key(instance.user_id))
    schema = connection.schema_name
    cache.delete_many(keys)
    for key in keys:
        readahead.forget(key)
    transaction.on_commit(lambda: _forget(schema, keys))
