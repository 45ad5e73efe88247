import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context

from core.uploads import check_upload, sniff_file_type
from courses import forms as course_forms
from courses.models import (
    Category,
    Course,
    CourseRevision,
    CourseStaff,
    CourseStaffRole,
    CourseStatus,
    Lesson,
    LessonKind,
    Module,
)
from courses.selectors import outline_for
from courses.services import course_publish
from courses.tests.factories import lessons_of, make_course
from tests.fixtures import client_for

User = get_user_model()

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def _url(course: Course, action: str = "change") -> str:
    return f"/admin/courses/course/{course.pk}/{action}/"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _titles_in_order(html: str, titles: list[str]) -> bool:
    html = html[html.index('id="curriculum"') :]
    positions = [html.find(title) for title in titles]
    return -1 not in positions and positions == sorted(positions)


def _course_form(course: Course, **changes) -> dict:
    data = {
        "title": course.title,
        "slug": course.slug,
        "summary": course.summary,
        "description": course.description,
        "category": course.category_id or "",
        "level": course.level,
        "estimated_minutes": course.estimated_minutes,
        "enrollment_policy": course.enrollment_policy,
        **_staff_rows(course),
    }
    data.update(changes)
    return data


def _staff_rows(course: Course | None, rows=None) -> dict:
    """The course staff inline as a browser posts it: the current rows, or the list `rows`
    ((user, role) pairs) made by editing rows in place, deleting the rest and adding new ones."""
    current = list(CourseStaff.objects.filter(course=course).order_by("pk")) if course is not None else []
    wanted = dict(rows) if rows is not None else {row.user: row.role for row in current}
    data: dict[str, object] = {
        "staff-INITIAL_FORMS": len(current),
        "staff-MIN_NUM_FORMS": 0,
        "staff-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(current):
        data.update({f"staff-{index}-id": row.pk, f"staff-{index}-course": row.course_id})
        data.update(
            {f"staff-{index}-user": row.user_id, f"staff-{index}-role": wanted.get(row.user, row.role)}
        )
        if row.user not in wanted:
            data[f"staff-{index}-DELETE"] = "on"
    added = [(user, role) for user, role in wanted.items() if user not in {row.user for row in current}]
    for offset, (user, role) in enumerate(added):
        index = len(current) + offset
        data.update({f"staff-{index}-user": user.pk, f"staff-{index}-role": role})
        if course is not None:
            data[f"staff-{index}-course"] = course.pk
    data["staff-TOTAL_FORMS"] = len(current) + len(added)
    return data


def _lesson_form(module: Module, **changes) -> dict:
    data = {
        "module": module.pk,
        "title": "New lesson",
        "kind": LessonKind.TEXT,
        "body": "Read this.",
        "embed_url": "",
        "duration_minutes": 5,
        "is_required": "on",
    }
    data.update(changes)
    return data


@pytest.fixture
def instructor(in_tenant):
    return User.objects.get(email="instructor@acme.test")


@pytest.fixture
def admin_user(in_tenant):
    return User.objects.get(email="admin@acme.test")


def test_builder_page_shows_modules_and_lessons_in_order(in_tenant):
    course = make_course(slug="ordered", modules=2, lessons=2, publish=False)
    first, second = course.modules.order_by("position")
    # Swap the modules by position only, so order by id and order by position differ.
    Module.objects.filter(pk=first.pk).update(position=1, title="Basics")
    Module.objects.filter(pk=second.pk).update(position=0, title="Warm-up")
    response = client_for(in_tenant, as_role="admin").get(_url(course))
    assert response.status_code == 200
    html = response.content.decode()
    assert _titles_in_order(
        html, ["Warm-up", "Lesson 2.1", "Lesson 2.2", "Basics", "Lesson 1.1", "Lesson 1.2"]
    )
    assert 'class="lms-badge lms-badge--draft">Draft<' in html
    assert f"/admin/courses/lesson/add/?module={first.pk}" in html
    assert f"/admin/courses/course/{course.pk}/publish/" in html


def test_modules_and_lessons_move_up_and_down(in_tenant):
    course = make_course(slug="moves", modules=3, lessons=3, publish=False)
    client = client_for(in_tenant, as_role="admin")
    modules = list(course.modules.order_by("position"))
    response = client.post(_url(course, f"modules/{modules[0].pk}/move"), {"direction": "down"})
    assert response.status_code == 302 and response.url.endswith(f"#module-{modules[0].pk}")
    assert list(course.modules.order_by("position").values_list("title", flat=True)) == [
        "Module 2",
        "Module 1",
        "Module 3",
    ]
    lesson = modules[0].lessons.get(title="Lesson 1.3")
    client.post(_url(course, f"lessons/{lesson.pk}/move"), {"direction": "up"})
    client.post(_url(course, f"lessons/{lesson.pk}/move"), {"direction": "up"})
    assert list(modules[0].lessons.order_by("position").values_list("title", flat=True)) == [
        "Lesson 1.3",
        "Lesson 1.1",
        "Lesson 1.2",
    ]
    assert (
        client.post(_url(course, f"lessons/{lesson.pk}/move"), {"direction": "sideways"}).status_code == 400
    )
    assert client.get(_url(course, f"lessons/{lesson.pk}/move")).status_code == 405
    assert modules[0].lessons.get(title="Lesson 1.3").position == 0


def test_add_lesson_lands_at_the_end_of_its_module_and_returns_to_the_builder(in_tenant):
    course = make_course(slug="adding", modules=2, lessons=2, publish=False)
    first, second = course.modules.order_by("position")
    client = client_for(in_tenant, as_role="admin")
    page = client.get(f"/admin/courses/lesson/add/?module={second.pk}")
    assert page.status_code == 200
    assert re.search(rf'<option value="{second.pk}" selected>', page.content.decode())
    response = client.post("/admin/courses/lesson/add/", _lesson_form(second, title="Wrap-up"))
    lesson = Lesson.objects.get(title="Wrap-up")
    assert response.status_code == 302 and response.url == f"{_url(course)}#lesson-{lesson.pk}"
    assert lesson.module == second and lesson.position == 2
    assert list(second.lessons.order_by("position").values_list("title", flat=True))[-1] == "Wrap-up"
    assert first.lessons.count() == 2


def test_add_module_from_the_builder_goes_last_and_an_empty_title_is_refused(in_tenant):
    course = make_course(slug="modules", modules=2, lessons=1, publish=False)
    client = client_for(in_tenant, as_role="instructor")
    course.instructors.add(User.objects.get(email="instructor@acme.test"))
    response = client.post(_url(course, "modules/add"), {"title": "Extras", "summary": "More"})
    module = course.modules.get(title="Extras")
    assert response.url.endswith(f"#module-{module.pk}") and module.position == 2
    response = client.post(_url(course, "modules/add"), {"title": "   "}, follow=True)
    assert any("Module not added" in m for m in _messages(response))
    assert course.modules.count() == 3


def test_publish_creates_a_revision_and_learners_see_the_new_outline(
    in_tenant, django_capture_on_commit_callbacks
):
    cache.clear()
    course = make_course(slug="publish-me")
    assert [x.title for x in outline_for(course).lessons] == ["Lesson 1.1", "Lesson 1.2"]
    lesson = lessons_of(course)[0]
    lesson.title = "Welcome aboard"
    lesson.save()
    client = client_for(in_tenant, as_role="admin")
    page = client.get(_url(course)).content.decode()
    assert "Published r1" in page and "Unpublished changes" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(course, "publish"), {"summary": "Friendlier first lesson"}, follow=True)
    assert any(
        m.startswith("Published revision 2.") and "Friendlier first lesson" in m for m in _messages(response)
    )
    course.refresh_from_db()
    assert course.published_revision.number == 2 and course.revisions.count() == 2
    assert course.published_revision.author.email == "admin@acme.test"
    assert [x.title for x in outline_for(course).lessons] == ["Welcome aboard", "Lesson 1.2"]
    html = response.content.decode()
    assert "Published r2" in html and "Unpublished changes" not in html
    assert "Friendlier first lesson" in html  # in the revision history


def test_publish_refusal_lists_every_problem_and_creates_no_revision(in_tenant):
    course = Course.objects.create(title="Half done", slug="half-done")
    module = Module.objects.create(course=course, title="Start")
    Lesson.objects.create(module=module, title="Intro video", kind=LessonKind.VIDEO)
    Lesson.objects.create(module=module, title="Handout", kind=LessonKind.DOCUMENT, position=1)
    Module.objects.create(course=course, title="Empty", position=1)
    response = client_for(in_tenant, as_role="admin").post(_url(course, "publish"), follow=True)
    shown = _messages(response)
    for problem in (
        "Video lesson 'Intro video' has no video: upload one.",
        "Document lesson 'Handout' has no PDF: upload one.",
        "Module 'Empty' has no lessons: add one or delete it.",
    ):
        assert problem in shown
    assert response.redirect_chain[-1][0] == _url(course)
    course.refresh_from_db()
    assert course.status == CourseStatus.DRAFT and course.published_revision is None
    assert not CourseRevision.objects.filter(course=course).exists()


def test_admin_restores_an_earlier_revision_and_an_instructor_cannot(in_tenant, admin_user, instructor):
    cache.clear()
    course = make_course(slug="history", title="First title")
    first = course.published_revision
    course.instructors.add(instructor)
    course.title = "Second title"
    course.save()
    course_publish(actor=admin_user, course=course)
    restore_url = _url(course, f"revisions/{first.pk}/restore")

    teacher = client_for(in_tenant, as_role="instructor")
    page = teacher.get(_url(course)).content.decode()
    assert "Second title" in page and restore_url not in page
    assert teacher.post(restore_url).status_code == 403
    assert course.revisions.count() == 2

    client = client_for(in_tenant, as_role="admin")
    confirm = client.get(restore_url)
    assert confirm.status_code == 200 and "Yes, restore revision 1" in confirm.content.decode()
    assert course.revisions.count() == 2  # asking changes nothing
    response = client.post(restore_url, follow=True)
    assert "Revision 1 is restored and published as revision 3." in _messages(response)
    course.refresh_from_db()
    assert course.title == "First title" and course.published_revision.number == 3
    assert outline_for(course).course.title == "First title"


def test_course_delete_is_soft_and_an_admin_restores_it(in_tenant, instructor):
    course = make_course(slug="trash-me")
    course.instructors.add(instructor)
    teacher = client_for(in_tenant, as_role="instructor")
    assert teacher.get(_url(course, "delete")).status_code == 403
    assert teacher.post(_url(course, "delete"), {"post": "yes"}).status_code == 403
    course.refresh_from_db()
    assert not course.is_deleted

    client = client_for(in_tenant, as_role="admin")
    page = client.get(_url(course, "delete")).content.decode()
    assert "a tenant admin can restore it" in page
    response = client.post(_url(course, "delete"), {"post": "yes"})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.is_deleted and Course.objects.filter(pk=course.pk).exists()
    assert lessons_of(course)  # the curriculum is still there
    assert "trash-me" not in client.get("/admin/courses/course/").content.decode()
    assert (
        f"/admin/courses/course/{course.pk}/change/"
        in client.get("/admin/courses/course/?trash=deleted").content.decode()
    )
    builder = client.get(_url(course)).content.decode()
    assert "This course is deleted" in builder and "Restore course" in builder
    assert teacher.post(_url(course, "undelete")).status_code == 403
    response = client.post(_url(course, "undelete"), follow=True)
    course.refresh_from_db()
    assert not course.is_deleted and "“Trash Me” is restored." in _messages(response)


def test_lesson_and_module_delete_is_soft_and_restorable_from_the_builder(in_tenant, instructor):
    course = make_course(slug="soft", modules=2, lessons=2, publish=False)
    course.instructors.add(instructor)
    client = client_for(in_tenant, as_role="instructor")
    lesson = lessons_of(course)[0]
    assert "can restore it" in client.get(f"/admin/courses/lesson/{lesson.pk}/delete/").content.decode()
    response = client.post(f"/admin/courses/lesson/{lesson.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and response.url == f"{_url(course)}#curriculum"
    lesson.refresh_from_db()
    assert lesson.is_deleted
    module = course.modules.get(title="Module 2")
    client.post(f"/admin/courses/module/{module.pk}/delete/", {"post": "yes"})
    module.refresh_from_db()
    assert module.is_deleted and Lesson.objects.filter(module=module).count() == 2
    builder = client.get(_url(course)).content.decode()
    assert "Deleted modules and lessons" in builder and "Lesson 1.1" in builder
    client.post(_url(course, f"modules/{module.pk}/undelete"))
    client.post(_url(course, f"lessons/{lesson.pk}/undelete"))
    module.refresh_from_db()
    lesson.refresh_from_db()
    assert not module.is_deleted and not lesson.is_deleted
    assert lesson.position == 2  # back at the end of its module


def test_instructor_sees_and_edits_only_the_courses_they_teach(in_tenant, instructor, admin_user):
    mine = make_course(slug="mine", title="My course", publish=False)
    mine.instructors.add(instructor)
    other = make_course(slug="not-mine", title="Someone else's course")
    other_lesson = lessons_of(other)[0]
    other_module = other_lesson.module
    client = client_for(in_tenant, as_role="instructor")

    listing = client.get("/admin/courses/course/").content.decode()
    assert "My course" in listing and "Someone else" not in listing
    assert client.get(_url(mine)).status_code == 200
    assert client.get(_url(other)).status_code == 404
    assert client.post(_url(other), _course_form(other, title="Hijacked")).status_code == 404
    assert client.post(_url(other, "publish")).status_code == 404
    assert client.post(_url(other, "archive")).status_code == 404
    assert (
        client.post(_url(other, f"modules/{other_module.pk}/move"), {"direction": "down"}).status_code == 404
    )
    assert client.post(_url(other, "modules/add"), {"title": "Sneaky"}).status_code == 404
    assert client.get(f"/admin/courses/lesson/{other_lesson.pk}/change/").status_code == 404
    assert client.post(f"/admin/courses/lesson/{other_lesson.pk}/delete/", {"post": "yes"}).status_code == 404
    assert client.get(f"/admin/courses/module/{other_module.pk}/change/").status_code == 404
    # A module of the other course is not a valid choice for a new lesson either.
    response = client.post("/admin/courses/lesson/add/", _lesson_form(other_module, title="Planted"))
    assert response.status_code == 200 and "module" in response.context["adminform"].form.errors
    assert "Someone else" not in client.get("/admin/courses/courserevision/").content.decode()
    # A module of my course may not be moved by naming another course in the URL.
    my_module = mine.modules.first()
    assert client.post(_url(other, f"modules/{my_module.pk}/move"), {"direction": "down"}).status_code == 404

    other.refresh_from_db()
    assert other.title == "Someone else's course" and other.revisions.count() == 1
    assert other.status == CourseStatus.PUBLISHED
    assert (
        not other.modules.filter(title="Sneaky").exists()
        and not Lesson.objects.filter(title="Planted").exists()
    )
    assert not Lesson.objects.get(pk=other_lesson.pk).is_deleted


def test_an_instructor_who_creates_a_course_teaches_it(in_tenant, instructor):
    client = client_for(in_tenant, as_role="instructor")
    response = client.post(
        "/admin/courses/course/add/",
        {
            "title": "Knots",
            "slug": "knots",
            "summary": "",
            "description": "",
            "level": "beginner",
            "estimated_minutes": 30,
            "enrollment_policy": "open",
            **_staff_rows(None),
        },
    )
    course = Course.objects.get(slug="knots")
    assert response.status_code == 302 and response.url == f"{_url(course)}#curriculum"
    assert list(course.instructors.all()) == [instructor]
    assert client.get(_url(course)).status_code == 200


def test_staff_choices_are_instructors_and_admins_only(in_tenant):
    course = make_course(slug="staffing", publish=False)
    client = client_for(in_tenant, as_role="admin")
    formset = client.get(_url(course)).context["inline_admin_formsets"][0].formset
    choices = formset.empty_form.fields["user"].queryset
    assert {u.email for u in choices} == {"admin@acme.test", "instructor@acme.test"}
    learner = User.objects.get(email="learner@acme.test")
    rows = _staff_rows(course, [(learner, CourseStaffRole.ASSISTANT)])
    response = client.post(_url(course), _course_form(course, **rows))
    assert response.status_code == 200
    assert "user" in response.context["inline_admin_formsets"][0].formset.errors[0]
    assert not course.instructors.exists()


def test_acme_admin_cannot_reach_a_globex_course(tenant, other_tenant):
    with schema_context(other_tenant.schema_name):
        globex_course = make_course(slug="globex-only", title="Globex secret")
        course_id = globex_course.pk
    with schema_context(tenant.schema_name):
        assert not Course.objects.filter(pk=course_id).exists()
    client = client_for(tenant, as_role="admin")
    assert client.get(f"/admin/courses/course/{course_id}/change/").status_code == 404
    assert client.post(f"/admin/courses/course/{course_id}/publish/").status_code == 404
    assert client.post(f"/admin/courses/course/{course_id}/undelete/").status_code == 404
    assert "Globex secret" not in client.get("/admin/courses/course/").content.decode()
    with schema_context(other_tenant.schema_name):
        assert Course.objects.get(pk=course_id).revisions.count() == 1


def test_markdown_preview_returns_sanitized_html(in_tenant):
    client = client_for(in_tenant, as_role="instructor")
    text = (
        "# Title\n\n**bold** <script>alert(1)</script>\n\n"
        '<img src="x.png" onerror="alert(2)">\n\n[click](javascript:alert(3)) and [ok](https://example.com)'
    )
    response = client.post("/admin/courses/course/markdown-preview/", {"text": text})
    assert response.status_code == 200
    html = response.json()["html"]
    assert "<strong>bold</strong>" in html and 'href="https://example.com"' in html
    lowered = html.lower()
    assert "<script" not in lowered and "onerror" not in lowered and "javascript:" not in lowered
    assert client.get("/admin/courses/course/markdown-preview/").status_code == 405
    too_long = "x" * (course_forms.MARKDOWN_PREVIEW_MAX_CHARS + 1)
    assert client.post("/admin/courses/course/markdown-preview/", {"text": too_long}).status_code == 400


def test_markdown_preview_is_for_signed_in_staff_with_a_csrf_token(in_tenant):
    url = "/admin/courses/course/markdown-preview/"
    learner = client_for(in_tenant, as_role="learner")
    assert learner.post(url, {"text": "hi"}).status_code == 302
    assert client_for(in_tenant).post(url, {"text": "hi"}).status_code == 302
    strict = client_for(in_tenant, as_role="admin")
    strict.handler.enforce_csrf_checks = True
    assert strict.post(url, {"text": "hi"}).status_code == 403


def test_embed_url_off_the_allow_list_is_a_field_error(in_tenant):
    course = make_course(slug="embeds", publish=False)
    module = course.modules.first()
    client = client_for(in_tenant, as_role="admin")
    data = _lesson_form(
        module, title="Talk", kind=LessonKind.EMBED, embed_url="https://evil.example/watch?v=1"
    )
    response = client.post("/admin/courses/lesson/add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Only YouTube and Vimeo" in errors["embed_url"][0]
    assert not Lesson.objects.filter(title="Talk").exists()
    data["embed_url"] = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert client.post("/admin/courses/lesson/add/", data).status_code == 302
    assert Lesson.objects.get(title="Talk").kind == LessonKind.EMBED


def test_bad_course_and_lesson_input_are_field_errors_and_change_nothing(in_tenant):
    make_course(slug="taken", publish=False)
    course = make_course(slug="editable", title="Editable", publish=False)
    client = client_for(in_tenant, as_role="admin")
    response = client.post(_url(course), _course_form(course, slug="taken", title="  ", estimated_minutes=-5))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"slug", "title", "estimated_minutes"}
    assert "already exists" in errors["slug"][0]
    page = response.content.decode()
    assert "Curriculum" in page and "Editable" in page  # the builder still renders, from the database
    course.refresh_from_db()
    assert (course.title, course.slug, course.estimated_minutes) == ("Editable", "editable", 0)

    lesson = lessons_of(course)[0]
    response = client.post(
        f"/admin/courses/lesson/{lesson.pk}/change/", _lesson_form(lesson.module, duration_minutes=-1)
    )
    assert response.status_code == 200 and "duration_minutes" in response.context["adminform"].form.errors
    lesson.refresh_from_db()
    assert lesson.duration_minutes == 5 and lesson.title == "Lesson 1.1"


def test_uploads_are_checked_by_their_first_bytes_and_size(in_tenant, monkeypatch):
    course = make_course(slug="uploads", publish=False)
    module = course.modules.first()
    client = client_for(in_tenant, as_role="admin")

    fake_pdf = SimpleUploadedFile("handout.pdf", PNG, content_type="application/pdf")
    data = _lesson_form(module, title="Handout", kind=LessonKind.DOCUMENT, document=fake_pdf)
    response = client.post("/admin/courses/lesson/add/", data)
    assert response.status_code == 200
    assert "not a PDF file" in response.context["adminform"].form.errors["document"][0]
    assert not Lesson.objects.filter(title="Handout").exists()

    fake_video = SimpleUploadedFile("talk.mp4", PDF, content_type="video/mp4")
    response = client.post("/admin/courses/lesson/add/", _lesson_form(module, kind="video", video=fake_video))
    assert "not a MP4, WEBM file" in response.context["adminform"].form.errors["video"][0]

    response = client.post(
        _url(course),
        _course_form(course, cover=SimpleUploadedFile("cover.png", PDF, content_type="image/png")),
    )
    assert "cover" in response.context["adminform"].form.errors
    course.refresh_from_db()
    assert not course.cover

    monkeypatch.setattr(course_forms, "DOCUMENT_MAX_BYTES", 10)
    response = client.post(
        "/admin/courses/lesson/add/",
        _lesson_form(module, title="Big", kind="document", document=SimpleUploadedFile("big.pdf", PDF)),
    )
    assert "at most" in response.context["adminform"].form.errors["document"][0]
    monkeypatch.undo()

    real_pdf = SimpleUploadedFile("handout.pdf", PDF, content_type="application/pdf")
    data = _lesson_form(module, title="Handout", kind=LessonKind.DOCUMENT, document=real_pdf)
    assert client.post("/admin/courses/lesson/add/", data).status_code == 302
    lesson = Lesson.objects.get(title="Handout")
    tenant = connection.tenant
    assert lesson.document.name.startswith("lessons/documents/")
    with lesson.document.open("rb") as stored:
        assert stored.read().startswith(b"%PDF-")
    assert lesson.document.storage.exists(lesson.document.name)
    lesson.document.delete(save=False)  # the bucket is shared by every test run
    assert connection.tenant == tenant

    video = SimpleUploadedFile("talk.mp4", MP4, content_type="video/mp4")
    assert sniff_file_type(MP4) == "mp4"
    assert sniff_file_type(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81") == "webm"
    assert sniff_file_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert check_upload(video, allowed={"mp4", "webm"}, max_bytes=1000, what="a video") is video


def test_status_badge_archive_and_unarchive(in_tenant, instructor):
    course = make_course(slug="lifecycle")
    course.instructors.add(instructor)
    client = client_for(in_tenant, as_role="instructor")
    assert "Published r1" in client.get(_url(course)).content.decode()
    response = client.post(_url(course, "archive"), follow=True)
    assert ">Archived<" in response.content.decode()
    course.refresh_from_db()
    assert course.status == CourseStatus.ARCHIVED
    response = client.post(_url(course, "archive"), follow=True)
    assert "Only a published course can be archived." in _messages(response)
    client.post(_url(course, "unarchive"))
    course.refresh_from_db()
    assert course.status == CourseStatus.PUBLISHED


def test_category_parent_is_a_top_level_category(in_tenant):
    top = Category.objects.create(name="Business", slug="business")
    child = Category.objects.create(name="Sales", slug="sales", parent=top)
    client = client_for(in_tenant, as_role="admin")
    choices = client.get("/admin/courses/category/add/").context["adminform"].form.fields["parent"].queryset
    assert list(choices) == [top]
    response = client.post(
        "/admin/courses/category/add/", {"name": "Deals", "slug": "deals", "parent": child.pk, "position": 0}
    )
    assert response.status_code == 200 and "parent" in response.context["adminform"].form.errors
    assert not Category.objects.filter(slug="deals").exists()
    assert client_for(in_tenant, as_role="instructor").get("/admin/courses/category/add/").status_code == 403


def test_restoring_a_revision_whose_address_is_taken_explains_and_changes_nothing(in_tenant, admin_user):
    course = make_course(slug="old-address", title="Renamed later")
    first = course.published_revision
    course.slug = "new-address"
    course.save()
    course_publish(actor=admin_user, course=course)
    make_course(slug="old-address", title="Squatter", publish=False)
    client = client_for(in_tenant, as_role="admin")
    response = client.post(_url(course, f"revisions/{first.pk}/restore"), follow=True)
    assert any("which another course has now" in m for m in _messages(response))
    course.refresh_from_db()
    assert course.slug == "new-address" and course.revisions.count() == 2
