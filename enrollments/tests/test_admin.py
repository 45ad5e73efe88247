import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from accounts.services import user_create
from courses.tests.factories import make_course
from enrollments.models import Enrollment, EnrollmentStatus
from enrollments.services import enrollment_create
from tests.fixtures import PASSWORD, client_for

User = get_user_model()
CHANGELIST = "/admin/enrollments/enrollment/"


@pytest.fixture
def requests_to_join(in_tenant):
    """Two people asked to join an approval-only course taught by the acme instructor."""
    course = make_course(slug="by-approval", policy="approval")
    course.instructors.add(User.objects.get(email="instructor@acme.test"))
    ann = User.objects.get(email="learner@acme.test")
    bob = user_create(email="bob@acme.test", role="learner", password=PASSWORD)
    return course, enrollment_create(user=ann, course=course), enrollment_create(user=bob, course=course)


def _action(client, action: str, *enrollments):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [e.pk for e in enrollments]},
        follow=True,
    )


def test_admin_approves_and_declines_requests(in_tenant, requests_to_join):
    _course, ann, bob = requests_to_join
    assert ann.status == bob.status == EnrollmentStatus.PENDING
    client = client_for(in_tenant, as_role="admin")
    listing = client.get(f"{CHANGELIST}?status__exact=pending").content.decode()
    assert "learner@acme.test" in listing and "bob@acme.test" in listing

    response = _action(client, "approve_requests", ann)
    assert "1 request(s) approved." in [str(m) for m in response.context["messages"]]
    response = _action(client, "decline_requests", bob)
    assert "1 request(s) declined." in [str(m) for m in response.context["messages"]]
    ann.refresh_from_db()
    bob.refresh_from_db()
    admin = User.objects.get(email="admin@acme.test")
    assert (ann.status, ann.decided_by, ann.enrolled_at is not None) == (EnrollmentStatus.ACTIVE, admin, True)
    assert (bob.status, bob.decided_by, bob.enrolled_at) == (EnrollmentStatus.REJECTED, admin, None)

    # A decided request is not decided again.
    response = _action(client, "decline_requests", ann)
    assert any("not a request waiting" in str(m) for m in response.context["messages"])
    ann.refresh_from_db()
    assert ann.status == EnrollmentStatus.ACTIVE


def test_instructor_decides_requests_only_for_courses_they_teach(in_tenant, requests_to_join):
    _course, ann, _bob = requests_to_join
    other = make_course(slug="elsewhere", title="Elsewhere", policy="approval")
    carl = user_create(email="carl@acme.test", role="learner", password=PASSWORD)
    foreign = enrollment_create(user=carl, course=other)
    client = client_for(in_tenant, as_role="instructor")

    listing = client.get(CHANGELIST).content.decode()
    assert "learner@acme.test" in listing and "carl@acme.test" not in listing and "Elsewhere" not in listing
    assert client.get(f"{CHANGELIST}{foreign.pk}/change/").status_code == 404
    _action(client, "approve_requests", foreign, ann)
    foreign.refresh_from_db()
    ann.refresh_from_db()
    assert foreign.status == EnrollmentStatus.PENDING  # outside the instructor's list: untouched
    assert ann.status == EnrollmentStatus.ACTIVE
    assert ann.decided_by.email == "instructor@acme.test"


def test_admin_enrolls_a_person_and_a_duplicate_is_a_form_error(in_tenant):
    course = make_course(slug="invite-only", policy="invitation")
    dana = user_create(email="dana@acme.test", role="learner", password=PASSWORD)
    client = client_for(in_tenant, as_role="admin")
    assert client.get(f"{CHANGELIST}add/").status_code == 200
    response = client.post(f"{CHANGELIST}add/", {"user": dana.pk, "course": course.pk})
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(user=dana, course=course)
    assert enrollment.status == EnrollmentStatus.ACTIVE and enrollment.enrolled_at is not None
    assert enrollment.decided_by.email == "admin@acme.test"

    response = client.post(f"{CHANGELIST}add/", {"user": dana.pk, "course": course.pk})
    assert response.status_code == 200
    assert "already has an enrollment here (Active)" in str(
        response.context["adminform"].form.non_field_errors()
    )
    assert Enrollment.objects.filter(user=dana, course=course).count() == 1


def test_instructor_cannot_enroll_people_or_delete_enrollments(in_tenant, requests_to_join):
    _course, ann, _bob = requests_to_join
    client = client_for(in_tenant, as_role="instructor")
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{ann.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Enrollment.objects.filter(pk=ann.pk).exists()


def test_enrollment_of_another_tenant_is_not_found(tenant, other_tenant):
    with schema_context(other_tenant.schema_name):
        course = make_course(slug="globex-course", policy="approval")
        person = User.objects.get(email="extra0@globex.test")
        enrollment = enrollment_create(user=person, course=course)
    with schema_context(tenant.schema_name):
        assert not Enrollment.objects.filter(pk=enrollment.pk).exists()
    client = client_for(tenant, as_role="admin")
    assert client.get(f"{CHANGELIST}{enrollment.pk}/change/").status_code == 404
    assert "extra0@globex.test" not in client.get(CHANGELIST).content.decode()
    _action(client, "approve_requests", enrollment)
    with schema_context(other_tenant.schema_name):
        assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.PENDING


def test_admin_blocks_a_learner_and_a_window_that_ends_before_it_starts_is_a_field_error(in_tenant):
    from courses.tests.factories import make_course
    from enrollments.services import enrollment_create

    learner = User.objects.get(email="learner@acme.test")
    course = make_course(slug="block-me")
    enrollment = enrollment_create(user=learner, course=course)
    client = client_for(in_tenant, as_role="admin")
    response = client.post(
        "/admin/enrollments/enrollment/", {"action": "block", "_selected_action": [enrollment.pk]}
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == "blocked"
    page = client.post(
        f"/admin/enrollments/enrollment/{enrollment.pk}/change/",
        {
            "status": "active",
            "access_starts_at_0": "2030-06-02",
            "access_starts_at_1": "10:00",
            "access_ends_at_0": "2030-06-01",
            "access_ends_at_1": "10:00",
        },
    ).content.decode()
    assert "The access window must end after it starts." in page
    enrollment.refresh_from_db()
    assert enrollment.status == "blocked" and enrollment.access_starts_at is None
