"""Categories are written through audited services; only the organization's admins may."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEntry
from courses.models import Category
from courses.services import CourseError, category_create, category_delete, category_restore, category_update
from tests.fixtures import client_for


@pytest.fixture
def people(in_tenant):
    User = get_user_model()
    return {r: User.objects.get(email=f"{r}@acme.test") for r in ("admin", "instructor")}


def test_an_admin_creates_renames_deletes_and_restores_a_category(people):
    admin = people["admin"]
    parent = category_create(actor=admin, name="Safety", slug="safety")
    child = category_create(actor=admin, name="Fire", slug="fire", parent=parent)
    category_update(actor=admin, category=parent, name="Workplace safety")
    category_delete(actor=admin, category=parent)
    assert Category.objects.get(pk=child.pk).is_deleted
    with pytest.raises(CourseError):
        category_restore(actor=admin, category=Category.objects.get(pk=child.pk))  # its parent is deleted
    category_restore(actor=admin, category=Category.objects.get(pk=parent.pk))
    actions = list(AuditEntry.objects.filter(target_type="courses.category").values_list("action", flat=True))
    assert {"category.created", "category.updated", "category.deleted", "category.restored"} <= set(actions)


def test_an_instructor_or_a_bad_parent_is_refused_and_nothing_changes(people):
    with pytest.raises(CourseError) as refused:
        category_create(actor=people["instructor"], name="Mine", slug="mine")
    assert refused.value.status == 403
    top = category_create(actor=people["admin"], name="Top", slug="top")
    child = category_create(actor=people["admin"], name="Child", slug="child", parent=top)
    with pytest.raises(CourseError) as nested:
        category_create(actor=people["admin"], name="Grandchild", slug="grandchild", parent=child)
    assert nested.value.field == "parent"
    assert not Category.objects.filter(slug__in=["mine", "grandchild"]).exists()


def test_the_category_admin_writes_through_the_service(tenant):
    client = client_for(tenant, as_role="admin")
    response = client.post(
        "/admin/courses/category/add/", {"name": "Admin made", "slug": "admin-made", "position": 0}
    )
    assert response.status_code == 302
    from django_tenants.utils import schema_context

    with schema_context(tenant.schema_name):
        assert AuditEntry.objects.filter(action="category.created", target_label="Admin made").exists()
