"""Course staff roles: owners and co-instructors edit, teaching assistants only read and grade,
the owner and tenant admins manage the staff list, and every change is audited."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import AuditEntry, Role
from courses.models import CourseStaff, CourseStaffRole, CourseStatus
from courses.permissions import courses_for_staff, courses_visible_to_staff, may_edit, may_manage_staff
from courses.services import CourseError, course_publish, course_staff_set
from courses.tests.factories import lessons_of, make_course
from courses.tests.test_admin import _course_form, _staff_rows
from tests.fixtures import host_of

User = get_user_model()
OWNER, CO, TA = CourseStaffRole.OWNER, CourseStaffRole.CO_INSTRUCTOR, CourseStaffRole.ASSISTANT


@pytest.fixture
def people(in_tenant):
    make = User.objects.create_user
    return {
        "admin": User.objects.get(email="admin@acme.test"),
        "owner": User.objects.get(email="instructor@acme.test"),
        "co": make("co@acme.test", "pw-co-2026-long", role=Role.INSTRUCTOR, full_name="Cora Co"),
        "ta": make("ta@acme.test", "pw-ta-2026-long", role=Role.INSTRUCTOR, full_name="Tariq Assist"),
        "other": make("other@acme.test", "pw-ot-2026-long", role=Role.INSTRUCTOR),
        "learner": User.objects.get(email="learner@acme.test"),
    }


@pytest.fixture
def staffed(people):
    course = make_course(slug="staffed", publish=False)
    course_staff_set(
        actor=people["admin"],
        course=course,
        members={people["owner"]: OWNER, people["co"]: CO, people["ta"]: TA},
    )
    return course


def _fresh(user):
    return User.objects.get(pk=user.pk)  # per-request caches start empty


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    client.force_login(user)
    return client


def test_roles_decide_who_lists_edits_and_manages(people, staffed):
    for name, edits, sees, manages in [
        ("admin", True, True, True),
        ("owner", True, True, True),
        ("co", True, True, False),
        ("ta", False, True, False),
        ("other", False, False, False),
        ("learner", False, False, False),
    ]:
        user = _fresh(people[name])
        assert may_edit(user, staffed) is edits, name
        assert may_manage_staff(user, staffed) is manages, name
        # The lists agree with the checks (Wagtail's rule: check and list side by side).
        assert courses_for_staff(user).filter(pk=staffed.pk).exists() is edits, name
        assert courses_visible_to_staff(user).filter(pk=staffed.pk).exists() is sees, name


def test_staff_changes_are_audited_with_before_and_after(people, staffed):
    course_staff_set(
        actor=_fresh(people["owner"]),
        course=staffed,
        members={people["owner"]: OWNER, people["co"]: TA},
    )
    assert dict(CourseStaff.objects.filter(course=staffed).values_list("user__email", "role")) == {
        "instructor@acme.test": OWNER,
        "co@acme.test": TA,
    }
    entry = AuditEntry.objects.filter(action="course.staff_changed").first()
    assert entry.actor_email == "instructor@acme.test"
    assert entry.before == {"instructor@acme.test": OWNER, "co@acme.test": CO, "ta@acme.test": TA}
    assert entry.after == {"instructor@acme.test": OWNER, "co@acme.test": TA}


@pytest.mark.parametrize(
    ("actor", "members", "message"),
    [
        ("co", {"owner": OWNER, "co": CO}, "Only the course's owner and the organization's admins"),
        ("ta", {"owner": OWNER, "ta": CO}, "Only the course's owner"),
        ("admin", {"owner": OWNER, "co": OWNER}, "at most one owner"),
        ("admin", {"owner": OWNER, "learner": TA}, "is not an instructor or admin of the organization"),
        ("owner", {"co": CO}, "You cannot remove yourself"),
        ("owner", {"owner": CO, "co": CO}, "Name another owner before you step down"),
    ],
)
def test_bad_staff_lists_are_refused_and_change_nothing(people, staffed, actor, members, message):
    before = set(CourseStaff.objects.filter(course=staffed).values_list("user_id", "role"))
    with pytest.raises(CourseError, match=message) as refused:
        course_staff_set(
            actor=_fresh(people[actor]),
            course=staffed,
            members={people[name]: role for name, role in members.items()},
        )
    assert set(CourseStaff.objects.filter(course=staffed).values_list("user_id", "role")) == before
    # Refused for who the actor is: 403, like the course door; for the list they gave: 400.
    assert refused.value.status == (403 if message.startswith("Only") else 400)


def test_the_owner_hands_over_ownership_in_one_change(people, staffed):
    course_staff_set(
        actor=_fresh(people["owner"]),
        course=staffed,
        members={people["owner"]: CO, people["co"]: OWNER, people["ta"]: TA},
    )
    assert CourseStaff.objects.get(course=staffed, role=OWNER).user == people["co"]


def test_assistants_read_the_builder_but_cannot_change_anything(in_tenant, people, staffed):
    client = _client(in_tenant, people["ta"])
    page = client.get(f"/admin/courses/course/{staffed.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "You are a teaching assistant on this course" in html
    assert "courses_course_publish" not in html and ">Publish<" not in html
    assert "Add a module" not in html
    # Visible but not editable: 403 for the builder's actions and the course form itself.
    assert client.post(f"/admin/courses/course/{staffed.pk}/publish/").status_code == 403
    assert client.post(f"/admin/courses/course/{staffed.pk}/modules/add/", {"title": "X"}).status_code == 403
    edited = client.post(
        f"/admin/courses/course/{staffed.pk}/change/", _course_form(staffed, title="Hijacked")
    )
    assert edited.status_code == 403
    staffed.refresh_from_db()
    assert staffed.title != "Hijacked" and staffed.status == CourseStatus.DRAFT
    # Modules and lessons are editing pages: an assistant does not find them.
    lesson = lessons_of(staffed)[0]
    assert client.get(f"/admin/courses/lesson/{lesson.pk}/change/").status_code == 404
    assert client.get(f"/admin/courses/module/{lesson.module_id}/change/").status_code == 404


def test_co_instructors_publish_but_cannot_change_the_staff(in_tenant, people, staffed):
    client = _client(in_tenant, people["co"])
    assert client.post(f"/admin/courses/course/{staffed.pk}/publish/").status_code == 302
    staffed.refresh_from_db()
    assert staffed.status == CourseStatus.PUBLISHED
    rows = _staff_rows(staffed, [(people["co"], OWNER)])
    client.post(f"/admin/courses/course/{staffed.pk}/change/", _course_form(staffed, **rows))
    assert CourseStaff.objects.get(course=staffed, user=people["co"]).role == CO


def test_the_owner_manages_the_staff_in_the_course_page(in_tenant, people, staffed):
    client = _client(in_tenant, people["owner"])
    rows = _staff_rows(staffed, [(people["owner"], OWNER), (people["other"], TA)])
    response = client.post(f"/admin/courses/course/{staffed.pk}/change/", _course_form(staffed, **rows))
    assert response.status_code == 302, (
        response.context and response.context["inline_admin_formsets"][0].formset.errors
    )
    assert dict(CourseStaff.objects.filter(course=staffed).values_list("user__email", "role")) == {
        "instructor@acme.test": OWNER,
        "other@acme.test": TA,
    }
    # Two owners in the form: a clear error in the page, nothing changed.
    rows = _staff_rows(staffed, [(people["owner"], OWNER), (people["other"], OWNER)])
    response = client.post(f"/admin/courses/course/{staffed.pk}/change/", _course_form(staffed, **rows))
    assert response.status_code == 200
    assert "at most one owner" in str(response.context["inline_admin_formsets"][0].formset.non_form_errors())
    assert CourseStaff.objects.get(course=staffed, user=people["other"]).role == TA


def test_assistants_open_every_lesson_of_their_course_on_the_learner_side(in_tenant, people, staffed):
    course_publish(actor=people["admin"], course=staffed)
    lesson = lessons_of(staffed)[1]
    client = _client(in_tenant, people["ta"])
    assert client.get(f"/learning/{staffed.slug}/lessons/{lesson.pk}/").status_code == 200
    # Not on the staff: the same lesson asks to enroll first.
    outsider = _client(in_tenant, people["other"])
    assert outsider.get(f"/learning/{staffed.slug}/lessons/{lesson.pk}/").status_code == 403


def test_the_course_page_names_owner_and_co_instructors_not_assistants(in_tenant, people, staffed):
    course_publish(actor=people["admin"], course=staffed)
    html = _client(in_tenant, people["learner"]).get(f"/courses/{staffed.slug}/").content.decode()
    assert "Cora Co" in html and "Tariq Assist" not in html
