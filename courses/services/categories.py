"""Catalog categories: created, changed, deleted (with their subcategories) and restored (ADR 0145).

Categories are the organization's, not a course's: only its admins change them."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_record

from ..models import Category
from .common import CourseError, _require_admin, apply_fields, values_of

CATEGORY_FIELDS = frozenset({"name", "slug", "parent", "position"})


@transaction.atomic
def category_create(
    *, actor, name: str, slug: str, parent: Category | None = None, position: int = 0
) -> Category:
    _require_admin(actor)
    if not (name or "").strip():
        raise CourseError("The category needs a name.", field="name")
    category = Category()
    apply_fields(
        category,
        {"name": name.strip(), "slug": slug, "parent": parent, "position": position},
        allowed=CATEGORY_FIELDS,
    )
    category.save()
    audit_record(
        actor=actor,
        action="category.created",
        target=category,
        after=values_of(category, sorted(CATEGORY_FIELDS)),
    )
    return category


@transaction.atomic
def category_update(*, actor, category: Category, **fields) -> Category:
    """Change a category's own fields; `before` is read from the database (a form may have set them)."""
    _require_admin(actor)
    stored = Category.objects.select_for_update().get(pk=category.pk)
    if stored.is_deleted:
        raise CourseError("This category is deleted; restore it before changing it.")
    if "name" in fields and not (fields["name"] or "").strip():
        raise CourseError("The category needs a name.", field="name")
    apply_fields(category, fields, allowed=CATEGORY_FIELDS)
    before, after = values_of(stored, sorted(fields)), values_of(category, sorted(fields))
    changed = sorted(name for name in fields if before[name] != after[name])
    if changed:
        category.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="category.updated",
            target=category,
            before={n: before[n] for n in changed},
            after={n: after[n] for n in changed},
        )
    return category


@transaction.atomic
def category_delete(*, actor, category: Category) -> Category:
    """Soft delete with its subcategories; courses in them simply lose the category filter."""
    _require_admin(actor)
    if category.is_deleted:
        raise CourseError("This category is already deleted.")
    children = list(category.children.alive())
    for child in children:
        child.soft_delete()
    category.soft_delete()
    audit_record(
        actor=actor,
        action="category.deleted",
        target=category,
        before={"deleted_at": None},
        after={"deleted_at": category.deleted_at.isoformat(), "subcategories": [c.pk for c in children]},
    )
    return category


@transaction.atomic
def category_restore(*, actor, category: Category) -> Category:
    _require_admin(actor)
    if not category.is_deleted:
        raise CourseError("This category is not deleted.")
    if category.parent_id and category.parent.is_deleted:
        raise CourseError("Its parent category is deleted: restore the parent first.", field="parent")
    deleted_at = category.deleted_at
    category.restore()
    audit_record(
        actor=actor,
        action="category.restored",
        target=category,
        before={"deleted_at": deleted_at.isoformat()},
        after={"deleted_at": None},
    )
    return category
