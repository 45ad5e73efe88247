import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from accounts.models import AuditEntry, Role
from accounts.services import AccountError, invitation_create, user_set_role
from courses.services import course_publish
from courses.tests.factories import make_course
from enrollments.services import enrollment_create
from tests.fixtures import client_for

User = get_user_model()


def test_role_change_publish_and_enrollment_leave_entries_with_before_and_after(in_tenant):
    admin = User.objects.get(email="admin@acme.test")
    learner = User.objects.get(email="learner@acme.test")
    user_set_role(actor=admin, user=learner, role=Role.INSTRUCTOR)
    entry = AuditEntry.objects.get(action="user.role_changed")
    assert (entry.actor, entry.target_id, entry.before, entry.after) == (
        admin,
        str(learner.pk),
        {"role": "learner"},
        {"role": "instructor"},
    )
    course = make_course(slug="audited", publish=False)
    course_publish(actor=admin, course=course)
    published = AuditEntry.objects.get(action="course.published")
    assert published.after["revision"] == 1 and published.target_label == "Audited"
    enrollment_create(user=User.objects.get(email="instructor@acme.test"), course=course)
    assert AuditEntry.objects.filter(action="enrollment.created").count() == 1


def test_a_refused_change_leaves_no_entry(in_tenant):
    admin = User.objects.get(email="admin@acme.test")
    with pytest.raises(AccountError):
        user_set_role(actor=admin, user=admin, role=Role.LEARNER)  # the last admin
    with pytest.raises(AccountError):
        invitation_create(actor=admin, email="learner@acme.test")  # already has an account
    assert not AuditEntry.objects.exists()


def test_only_tenant_admins_read_the_audit_log_and_only_their_own_tenants(tenant, other_tenant):
    with schema_context(other_tenant.schema_name):
        admin = User.objects.get(email="admin@globex.test")
        invitation_create(actor=admin, email="someone@globex.test")
    with schema_context(tenant.schema_name):
        admin = User.objects.get(email="admin@acme.test")
        invitation_create(actor=admin, email="newcomer@acme.test")
    page = client_for(tenant, as_role="admin").get("/admin/accounts/auditentry/").content.decode()
    assert "invitation.sent" in page and "newcomer@acme.test" in page
    assert "someone@globex.test" not in page
    assert client_for(tenant, as_role="instructor").get("/admin/accounts/auditentry/").status_code == 403
    with schema_context(tenant.schema_name):
        entry = AuditEntry.objects.get()
    response = client_for(tenant, as_role="admin").post(f"/admin/accounts/auditentry/{entry.pk}/delete/")
    assert response.status_code == 403
    with schema_context(tenant.schema_name):
        assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_name_changed_in_the_admin_is_audited(tenant):
    from django_tenants.utils import schema_context

    from accounts.models import AuditEntry, User
    from tests.fixtures import client_for

    with schema_context(tenant.schema_name):
        learner = User.objects.get(email="learner@acme.test")
    client = client_for(tenant, as_role="admin")
    response = client.post(
        f"/admin/accounts/user/{learner.pk}/change/",
        {"full_name": "Renamed Learner", "role": learner.role, "is_active": "on"},
    )
    assert response.status_code == 302
    with schema_context(tenant.schema_name):
        entry = AuditEntry.objects.filter(action="user.renamed").latest("id")
        assert entry.after == {"full_name": "Renamed Learner"}
