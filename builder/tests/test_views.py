"""The course builder page and its endpoints: who reaches them, what each write does, what is refused."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import AuditEntry
from accounts.services import user_create
from courses.models import Course, CourseStaff, CourseStaffRole, Lesson, LessonKind, Module
from courses.services import course_publish, lesson_set_prerequisites
from courses.tests.factories import make_course
from media_delivery.models import MediaAsset
from tests.fixtures import PASSWORD, client_for, host_of

User = get_user_model()
HTMX = {"HTTP_HX_REQUEST": "true"}
NEW_BADGE = 'New<span class="visually-hidden">: Not published yet.'


def _signed_in(tenant, email: str) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, f"sign-in as {email} failed"
    return client


def _staff(tenant, course: Course, role: str, name: str) -> Client:
    with schema_context(tenant.schema_name):
        user = user_create(email=f"{name}@{tenant.slug}.test", role="instructor", password=PASSWORD)
        CourseStaff.objects.create(course=course, user=user, role=role)
    return _signed_in(tenant, user.email)


@pytest.fixture
def course(in_tenant) -> Course:
    """Two published modules of two lessons each, in acme."""
    return make_course(slug="builder-course", title="Builder course", modules=2, lessons=2)


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _url(course: Course, tail: str = "") -> str:
    return f"/builder/{course.slug}/{tail}"


def _curriculum(course: Course) -> list:
    """Everything a write could change: each module's and lesson's title, place and archived state."""
    with schema_context("acme"):
        modules = list(
            Module.objects.filter(course=course)
            .order_by("pk")
            .values_list("pk", "title", "position", "deleted_at")
        )
        lessons = list(
            Lesson.objects.filter(module__course=course)
            .order_by("pk")
            .values_list("pk", "module_id", "title", "kind", "position", "deleted_at")
        )
        return [modules, lessons, AuditEntry.objects.count()]


def _module_ids(course: Course) -> list[int]:
    with schema_context("acme"):
        return list(
            Module.objects.alive()
            .filter(course=course)
            .order_by("position", "id")
            .values_list("pk", flat=True)
        )


def _lesson_ids(module: Module) -> list[int]:
    with schema_context("acme"):
        return list(
            Lesson.objects.alive()
            .filter(module=module)
            .order_by("position", "id")
            .values_list("pk", flat=True)
        )


def _modules(course: Course) -> list[Module]:
    with schema_context("acme"):
        return list(Module.objects.alive().filter(course=course).order_by("position", "id"))


# --- the page --------------------------------------------------------------------------


def test_page_shows_the_tree_with_a_badge_per_row(tenant, course, django_assert_max_num_queries):
    first, second = _modules(course)
    lesson_a, lesson_b = Lesson.objects.filter(module=first).order_by("position")
    video = Lesson.objects.create(module=second, title="Intro video", kind=LessonKind.VIDEO, position=5)
    Lesson.objects.filter(pk=lesson_b.pk).update(drip_days=3)
    Module.objects.filter(pk=second.pk).update(drip_at=timezone.now() + timedelta(days=10))
    admin = User.objects.get(email="admin@acme.test")
    lesson_set_prerequisites(actor=admin, lesson=lesson_b, prerequisites=[lesson_a])
    MediaAsset.objects.create(kind="video", key=f"t/{tenant.uuid}/media/b/source.mp4", lesson=video)
    gone = Lesson.objects.create(module=first, title="Old lesson", position=9, deleted_at=timezone.now())
    client = client_for(tenant, as_role="admin")
    with django_assert_max_num_queries(30):
        response = client.get(_url(course))
    assert response.status_code == 200
    body = _text(response)
    assert 'data-sortable="modules"' in body and 'data-sortable="lessons"' in body
    assert "Unpublished changes" in body  # the new video lesson and the drip rule are not published
    assert "Opens 3 days after enrolling" in body
    assert "Opens not before" in body
    assert "1 prerequisite" in body and f"Complete first: {lesson_a.title}" in body
    assert "Uploading" in body
    assert "Video" in body and "Text" in body
    assert f'id="lesson-{gone.pk}"' in body and "Archived" in body
    assert f"/builder/{course.slug}/lessons/{gone.pk}/restore/" in body
    assert "vendor/sortable/Sortable.min.js" in body and "vendor/htmx/htmx.min.js" in body


@pytest.mark.parametrize(
    ("status", "transcode", "label"),
    [
        ("pending", "", "Uploading"),
        ("ready", "queued", "Transcoding"),
        ("ready", "done", "Media ready"),
        ("rejected", "", "Media rejected"),
    ],
)
def test_media_badge_follows_the_newest_asset(tenant, course, status, transcode, label):
    lesson = Lesson.objects.filter(module__course=course).first()
    MediaAsset.objects.create(
        kind="video", key=f"t/{tenant.uuid}/media/old/a.mp4", lesson=lesson, status="ready"
    )
    MediaAsset.objects.create(
        kind="video",
        key=f"t/{tenant.uuid}/media/new/a.mp4",
        lesson=lesson,
        status=status,
        transcode_status=transcode,
    )
    body = client_for(tenant, as_role="admin").get(_url(course)).content.decode()
    assert label in body


def test_a_published_unchanged_course_shows_no_draft_badges(tenant, course):
    body = client_for(tenant, as_role="admin").get(_url(course)).content.decode()
    assert "Unpublished changes" not in body and NEW_BADGE not in body
    assert "Learners see this curriculum." in body


def test_owner_and_co_instructor_get_the_editable_page(tenant, course):
    for role, name in ((CourseStaffRole.OWNER, "owner"), (CourseStaffRole.CO_INSTRUCTOR, "co")):
        body = _staff(tenant, course, role, name).get(_url(course)).content.decode()
        assert 'data-sortable="modules"' in body and "Add module" in body, role


def test_assistant_sees_the_page_read_only_and_cannot_write(tenant, course):
    client = _staff(tenant, course, CourseStaffRole.ASSISTANT, "assistant")
    response = client.get(_url(course))
    assert response.status_code == 200
    body = _text(response)
    assert "Lesson 1.1" in body
    assert "data-sortable" not in body and "Add module" not in body and "Archive" not in body
    assert "only its instructors and the organization's admins can change it" in body
    before = _curriculum(course)
    module = _modules(course)[0]
    for url, data in (
        (_url(course, "modules/"), {"title": "Assistant's module"}),
        (_url(course, f"modules/{module.pk}/"), {"title": "Renamed"}),
        (_url(course, f"modules/{module.pk}/archive/"), {}),
        (_url(course, "modules/order/"), {"module_ids": ",".join(map(str, reversed(_module_ids(course))))}),
    ):
        response = client.post(url, data, **HTMX)
        assert response.status_code == 403, url
        assert "Only this course's instructors" in _text(response)
    assert _curriculum(course) == before


@pytest.mark.parametrize("role", ["instructor", "learner"])
def test_people_off_the_staff_get_404_everywhere(tenant, course, role):
    client = client_for(tenant, as_role=role)
    module = _modules(course)[0]
    lesson = Lesson.objects.filter(module=module).first()
    before = _curriculum(course)
    assert client.get(_url(course)).status_code == 404
    for tail in (
        "modules/",
        "modules/order/",
        f"modules/{module.pk}/",
        f"modules/{module.pk}/archive/",
        f"modules/{module.pk}/restore/",
        f"modules/{module.pk}/lessons/",
        f"modules/{module.pk}/lessons/order/",
        f"lessons/{lesson.pk}/",
        f"lessons/{lesson.pk}/archive/",
        f"lessons/{lesson.pk}/restore/",
    ):
        response = client.post(_url(course, tail), {"title": "x", "lesson_ids": str(lesson.pk)}, **HTMX)
        assert response.status_code == 404, tail
        assert "Builder course" not in _text(response)
    assert _curriculum(course) == before


def test_anonymous_page_asks_to_sign_in_and_writes_are_404(tenant, course):
    client = client_for(tenant)
    response = client.get(_url(course))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(_url(course, "modules/"), {"title": "x"}).status_code == 404


def test_unknown_course_is_404(tenant, course):
    assert client_for(tenant, as_role="admin").get("/builder/no-such-course/").status_code == 404


# --- writes ----------------------------------------------------------------------------


def test_add_rename_archive_and_restore_a_module(tenant, course):
    client = client_for(tenant, as_role="admin")
    response = client.post(_url(course, "modules/"), {"title": "  Wrap-up  "}, **HTMX)
    assert response.status_code == 200 and response["X-Builder-Tree"] == "1"
    module = Module.objects.get(course=course, title="Wrap-up")
    assert module.position == 2
    body = _text(response)
    assert 'id="builder-tree"' in body and "<html" not in body
    assert f'data-focus="module-{module.pk}"' in body and "Module “Wrap-up” added." in body

    response = client.post(_url(course, f"modules/{module.pk}/"), {"title": "Summary"}, **HTMX)
    assert response.status_code == 200
    module.refresh_from_db()
    assert module.title == "Summary"

    response = client.post(_url(course, f"modules/{module.pk}/archive/"), **HTMX)
    assert response.status_code == 200
    module.refresh_from_db()
    assert module.is_deleted
    assert "Archived modules" in _text(response)

    response = client.post(_url(course, f"modules/{module.pk}/restore/"), **HTMX)
    assert response.status_code == 200
    module.refresh_from_db()
    assert not module.is_deleted
    assert AuditEntry.objects.filter(action__startswith="module.", target_id=str(module.pk)).count() == 4


def test_reorder_modules(tenant, course):
    client = client_for(tenant, as_role="admin")
    ids = list(reversed(_module_ids(course)))
    response = client.post(_url(course, "modules/order/"), {"module_ids": ",".join(map(str, ids))}, **HTMX)
    assert response.status_code == 200
    assert _module_ids(course) == ids
    assert AuditEntry.objects.filter(action="course.modules_reordered").exists()


def test_add_rename_archive_and_restore_a_lesson(tenant, course):
    client = client_for(tenant, as_role="admin")
    module = _modules(course)[0]
    response = client.post(
        _url(course, f"modules/{module.pk}/lessons/"), {"title": "Quiz time", "kind": "quiz"}, **HTMX
    )
    assert response.status_code == 200
    lesson = Lesson.objects.get(module=module, title="Quiz time")
    assert lesson.kind == LessonKind.QUIZ and lesson.position == 2
    assert f'data-focus="lesson-{lesson.pk}"' in _text(response)

    assert (
        client.post(_url(course, f"lessons/{lesson.pk}/"), {"title": "Check-in"}, **HTMX).status_code == 200
    )
    lesson.refresh_from_db()
    assert lesson.title == "Check-in"

    response = client.post(_url(course, f"lessons/{lesson.pk}/archive/"), **HTMX)
    assert response.status_code == 200
    lesson.refresh_from_db()
    assert lesson.is_deleted
    assert "Archived lessons (1)" in _text(response)

    assert client.post(_url(course, f"lessons/{lesson.pk}/restore/"), **HTMX).status_code == 200
    lesson.refresh_from_db()
    assert not lesson.is_deleted


def test_reorder_lessons_within_a_module(tenant, course):
    client = client_for(tenant, as_role="admin")
    module = _modules(course)[0]
    ids = list(reversed(_lesson_ids(module)))
    response = client.post(
        _url(course, f"modules/{module.pk}/lessons/order/"), {"lesson_ids": [str(pk) for pk in ids]}, **HTMX
    )
    assert response.status_code == 200
    assert _lesson_ids(module) == ids


def test_a_lesson_dropped_into_another_module_moves_there_in_place(tenant, course):
    client = client_for(tenant, as_role="admin")
    first, second = _modules(course)
    moving = _lesson_ids(first)[0]
    wanted = [_lesson_ids(second)[0], moving, _lesson_ids(second)[1]]
    response = client.post(
        _url(course, f"modules/{second.pk}/lessons/order/"),
        {"lesson_ids": ",".join(map(str, wanted))},
        **HTMX,
    )
    assert response.status_code == 200
    assert _lesson_ids(second) == wanted
    assert moving not in _lesson_ids(first)
    assert AuditEntry.objects.filter(action="lesson.moved", target_id=str(moving)).exists()


def test_without_htmx_a_write_comes_back_to_the_page(tenant, course):
    client = client_for(tenant, as_role="admin")
    response = client.post(_url(course, "modules/"), {"title": "No script"})
    assert response.status_code == 302 and response["Location"] == _url(course)
    response = client.post(_url(course, "modules/"), {"title": ""})
    assert response.status_code == 400
    body = _text(response)
    assert "<html" in body and "A title is needed." in body


# --- refusals: a message, the right status, nothing changed ------------------------------


def _refused(client, url: str, data: dict, status: int, sentence: str, course: Course) -> None:
    before = _curriculum(course)
    response = client.post(url, data, **HTMX)
    body = _text(response)
    assert response.status_code == status, (url, data, response.status_code, body[:300])
    assert sentence in body, (url, data, body[:500])
    assert 'role="alert"' in body and response["X-Builder-Tree"] == "1"
    assert _curriculum(course) == before


def test_empty_titles_are_refused(tenant, course):
    client = client_for(tenant, as_role="admin")
    module = _modules(course)[0]
    lesson = Lesson.objects.filter(module=module).first()
    for url in (
        _url(course, "modules/"),
        _url(course, f"modules/{module.pk}/"),
        _url(course, f"modules/{module.pk}/lessons/"),
        _url(course, f"lessons/{lesson.pk}/"),
    ):
        _refused(client, url, {"title": "   "}, 400, "A title is needed.", course)


def test_too_long_title_and_unknown_kind_are_refused(tenant, course):
    client = client_for(tenant, as_role="admin")
    module = _modules(course)[0]
    _refused(client, _url(course, f"modules/{module.pk}/"), {"title": "x" * 201}, 400, "at most 200", course)
    _refused(
        client,
        _url(course, f"modules/{module.pk}/lessons/"),
        {"title": "Odd", "kind": "hologram"},
        400,
        "is not a valid choice",
        course,
    )


def test_reorder_lists_missing_repeating_or_not_numbers_are_refused(tenant, course):
    client = client_for(tenant, as_role="admin")
    modules = _module_ids(course)
    lesson_url = _url(course, f"modules/{modules[0]}/lessons/order/")
    lessons = _lesson_ids(_modules(course)[0])
    every_module = "List every module exactly once"
    for ids in ("", str(modules[0]), f"{modules[0]},{modules[0]},{modules[1]}"):
        _refused(client, _url(course, "modules/order/"), {"module_ids": ids}, 400, every_module, course)
    _refused(client, _url(course, "modules/order/"), {"module_ids": "1,abc"}, 400, "as numbers", course)
    for ids in ("", str(lessons[0]), f"{lessons[0]},{lessons[0]},{lessons[1]}"):
        _refused(client, lesson_url, {"lesson_ids": ids}, 400, "List every lesson exactly once", course)


def test_unknown_ids_are_404_with_a_sentence(tenant, course):
    client = client_for(tenant, as_role="admin")
    modules = _module_ids(course)
    for tail, what in (
        ("modules/999999/", "module"),
        ("modules/999999/archive/", "module"),
        ("modules/999999/restore/", "module"),
        ("modules/999999/lessons/", "module"),
        ("modules/999999/lessons/order/", "module"),
        ("lessons/999999/", "lesson"),
        ("lessons/999999/archive/", "lesson"),
        ("lessons/999999/restore/", "lesson"),
    ):
        _refused(client, _url(course, tail), {"title": "x"}, 404, f"No such {what} here.", course)
    _refused(
        client,
        _url(course, "modules/order/"),
        {"module_ids": f"{modules[1]},{modules[0]},999999"},
        404,
        "No such module here.",
        course,
    )
    _refused(
        client,
        _url(course, "modules/order/"),
        {"module_ids": "99999999999999999999"},
        404,
        "No such module here.",
        course,
    )


def test_ids_of_another_course_in_the_tenant_are_refused(tenant, course):
    other = make_course(slug="builder-other", modules=1, lessons=1)
    other_module = Module.objects.get(course=other)
    other_lesson = Lesson.objects.get(module=other_module)
    client = client_for(tenant, as_role="admin")
    for tail, what in (
        (f"modules/{other_module.pk}/", "module"),
        (f"modules/{other_module.pk}/archive/", "module"),
        (f"modules/{other_module.pk}/lessons/", "module"),
        (f"modules/{other_module.pk}/lessons/order/", "module"),
        (f"lessons/{other_lesson.pk}/", "lesson"),
        (f"lessons/{other_lesson.pk}/archive/", "lesson"),
    ):
        _refused(
            client,
            _url(course, tail),
            {"title": "x", "lesson_ids": str(other_lesson.pk)},
            404,
            f"No such {what} here.",
            course,
        )
    modules = _module_ids(course)
    _refused(
        client,
        _url(course, "modules/order/"),
        {"module_ids": f"{modules[1]},{modules[0]},{other_module.pk}"},
        400,
        "Only the modules of this course",
        course,
    )
    first = _modules(course)[0]
    lessons = _lesson_ids(first)
    _refused(
        client,
        _url(course, f"modules/{first.pk}/lessons/order/"),
        {"lesson_ids": f"{lessons[1]},{other_lesson.pk},{lessons[0]}"},
        400,
        "Only the lessons of this module",
        course,
    )
    other_lesson.refresh_from_db()
    assert other_lesson.module_id == other_module.pk


def test_a_failed_reorder_undoes_the_move_it_started(tenant, course):
    """Dropping a lesson into a module with a stale list moves nothing."""
    client = client_for(tenant, as_role="admin")
    first, second = _modules(course)
    moving = _lesson_ids(first)[0]
    _refused(
        client,
        _url(course, f"modules/{second.pk}/lessons/order/"),
        {"lesson_ids": f"{moving},{_lesson_ids(second)[0]}"},  # one of the module's lessons missing
        400,
        "List every lesson exactly once",
        course,
    )
    assert moving in _lesson_ids(first)


def test_restoring_what_is_not_archived_is_refused(tenant, course):
    client = client_for(tenant, as_role="admin")
    module = _modules(course)[0]
    lesson = Lesson.objects.filter(module=module).first()
    _refused(
        client, _url(course, f"modules/{module.pk}/restore/"), {}, 400, "This module is not deleted.", course
    )
    _refused(
        client, _url(course, f"lessons/{lesson.pk}/restore/"), {}, 400, "This lesson is not deleted.", course
    )


def test_renaming_an_archived_lesson_is_refused(tenant, course):
    client = client_for(tenant, as_role="admin")
    lesson = Lesson.objects.filter(module__course=course).first()
    client.post(_url(course, f"lessons/{lesson.pk}/archive/"), **HTMX)
    _refused(
        client, _url(course, f"lessons/{lesson.pk}/"), {"title": "Zombie"}, 400, "restore it before", course
    )


# --- the other tenant ------------------------------------------------------------------


def test_the_other_tenants_ids_are_unknown_here(tenant, other_tenant, course):
    with schema_context(other_tenant.schema_name):
        theirs = make_course(slug="globex-builder", modules=1, lessons=1, title="Globex builder secret")
        their_module = Module.objects.get(course=theirs)
        their_lesson = Lesson.objects.get(module=their_module)
        their_before = (
            list(Module.objects.filter(course=theirs).values_list("title", "position", "deleted_at")),
            list(Lesson.objects.filter(module=their_module).values_list("title", "module_id", "deleted_at")),
        )
    connection.set_tenant(tenant)
    client = client_for(tenant, as_role="admin")
    # Globex's course slug does not exist on acme's host.
    assert client.get("/builder/globex-builder/").status_code == 404
    assert client.post("/builder/globex-builder/modules/", {"title": "x"}, **HTMX).status_code == 404
    # Globex's ids under acme's course: unknown rows (unless acme happens to have that id, which
    # then is acme's own row of another course and refused as such).
    for tail in (f"modules/{their_module.pk}/archive/", f"lessons/{their_lesson.pk}/archive/"):
        response = client.post(_url(course, tail), **HTMX)
        assert response.status_code == 404
        assert "Globex builder secret" not in _text(response)
    with schema_context(other_tenant.schema_name):
        after = (
            list(Module.objects.filter(course=theirs).values_list("title", "position", "deleted_at")),
            list(Lesson.objects.filter(module=their_module).values_list("title", "module_id", "deleted_at")),
        )
    assert after == their_before


def test_the_other_tenants_admin_cannot_reach_this_tenants_builder(tenant, other_tenant, course):
    client = client_for(other_tenant, as_role="admin")
    module = _modules(course)[0]
    assert client.get(_url(course)).status_code == 404
    before = _curriculum(course)
    for tail in ("modules/", f"modules/{module.pk}/archive/", "modules/order/"):
        assert client.post(_url(course, tail), {"title": "x"}, **HTMX).status_code == 404
    assert _curriculum(course) == before


def test_publishing_clears_the_draft_badges(tenant, course):
    client = client_for(tenant, as_role="admin")
    client.post(_url(course, "modules/"), {"title": "Later"}, **HTMX)
    later = Module.objects.get(course=course, title="Later")
    client.post(_url(course, f"modules/{later.pk}/lessons/"), {"title": "Epilogue"}, **HTMX)
    assert NEW_BADGE in client.get(_url(course)).content.decode()
    Lesson.objects.filter(module=later).update(body="The end.")
    course_publish(actor=User.objects.get(email="admin@acme.test"), course=course)
    body = client.get(_url(course)).content.decode()
    assert NEW_BADGE not in body and "Unpublished changes" not in body


def test_the_course_admin_and_the_staff_preview_link_to_the_builder(tenant, course):
    client = client_for(tenant, as_role="admin")
    link = f'href="/builder/{course.slug}/"'
    assert link in client.get(f"/admin/courses/course/{course.pk}/change/").content.decode()
    assert link in client.get("/admin/courses/course/").content.decode()
    assert link in client.get(f"/courses/{course.slug}/preview/").content.decode()


def test_the_page_costs_the_same_queries_for_a_bigger_course(tenant, in_tenant):
    """No query per module or lesson: badges, media and drafts are read in fixed queries."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client = client_for(tenant, as_role="admin")
    counts = []
    for slug, size in (("builder-small", 2), ("builder-big", 6)):
        course = make_course(slug=slug, modules=size, lessons=size)
        for lesson in Lesson.objects.filter(module__course=course)[:3]:
            MediaAsset.objects.create(
                kind="video", key=f"t/{tenant.uuid}/media/{lesson.pk}.mp4", lesson=lesson
            )
        client.get(_url(course))
        with CaptureQueriesContext(db) as queries:
            assert client.get(_url(course)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[1] <= 14, counts
