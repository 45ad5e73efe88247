"""Authentication by e-mail, and permissions from the tenant role (no per-user grants)."""

from django.contrib.auth.backends import ModelBackend

from .models import normalize_email
from .permissions import is_instructor, is_tenant_admin

# Apps whose models a tenant admin manages in the tenant admin. Instructors get the
# authoring permissions listed in INSTRUCTOR_PERMISSIONS (filled in by the course app).
TENANT_ADMIN_APPS = frozenset(
    {"accounts", "courses", "enrollments", "analytics", "media_delivery", "api", "webhooks"}
)
# Named as strings: `accounts` imports nothing above it. Which courses an instructor may
# edit is narrowed further to the courses they teach (courses.selectors.courses_for_staff).
INSTRUCTOR_PERMISSIONS: frozenset[str] = frozenset(
    {
        *(
            f"courses.{verb}_{model}"
            for verb in ("view", "add", "change")
            for model in ("course", "module", "lesson")
        ),
        "courses.delete_module",
        "courses.delete_lesson",
        "courses.view_category",
        "courses.view_courserevision",
        "enrollments.view_enrollment",
        "enrollments.change_enrollment",
    }
)


class RoleBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        email = kwargs.get("email") or username
        if email is None or password is None:
            return None
        return super().authenticate(request, username=normalize_email(email), password=password)

    def get_user(self, user_id):
        """The signed-in person, from the cache (forgotten on every write to the user, ADR 0050)."""
        from .cache import user_get_cached

        user = user_get_cached(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _role_permissions(self, user_obj) -> frozenset[str]:
        if not user_obj.is_active or user_obj.is_anonymous:
            return frozenset()
        cached = getattr(user_obj, "_role_perm_cache", None)
        if cached is None:
            cached = INSTRUCTOR_PERMISSIONS if is_instructor(user_obj) else frozenset()
            user_obj._role_perm_cache = cached
        return cached

    def get_all_permissions(self, user_obj, obj=None):
        if user_obj.is_active and user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        return set(self._role_permissions(user_obj))

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active:
            return False
        if user_obj.is_superuser:
            return True
        if is_tenant_admin(user_obj):
            return perm.split(".", 1)[0] in TENANT_ADMIN_APPS
        return perm in self._role_permissions(user_obj)

    def has_module_perms(self, user_obj, app_label):
        if not user_obj.is_active:
            return False
        if user_obj.is_superuser:
            return True
        if is_tenant_admin(user_obj):
            return app_label in TENANT_ADMIN_APPS
        return any(p.startswith(f"{app_label}.") for p in self._role_permissions(user_obj))
