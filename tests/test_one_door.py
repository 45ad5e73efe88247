"""No module outside the access and permission modules compares roles (issue #12, ADR 0165).

Every "may this person do this?" is answered by a door (`enrollments/access.py`,
`media_delivery/access.py`, `assessments/access.py`) or a named predicate beside its listing
query (`accounts/permissions.py` for the tenant role, `courses/permissions.py` for course
staff). This test reads every module of every app in the repository and fails on a role
compared anywhere else, so a new ad hoc check is refused the day it is written, in a new app
as much as in an old one.

What counts as comparing a role:

- `==`, `!=`, `in`, `not in` with an operand that mentions `Role.` / `CourseStaffRole.`, an
  attribute or name called `role` (or ending in `_role`, such as `course_role(...)`), or one of
  the role constants of `courses/permissions.py`;
- `.filter()` / `.exclude()` / `.get()` / `Q()` with a `role` lookup (`role=`, `role__in=`,
  `staff__role__in=`): a query narrowed by role is a permission decision too;
- reading the `is_tenant_admin` / `can_use_admin` attributes of a user (directly or with
  `getattr`) instead of asking the predicate of that name.

Not counted: `x in Role.values` (checking that a string names a role is input validation,
not a decision about a person), and assigning a role (`role=Role.ADMIN` in a create call).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TypeGuard

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent

#: Directories below an app that hold no product code.
SKIPPED_DIRS = frozenset({"tests", "migrations", "__pycache__"})
#: Top-level packages that are no app: this suite, and the benchmarks (which create users).
NOT_APPS = frozenset({"tests", "bench"})

#: Where roles may be compared: path -> the scopes (dotted function/class names) allowed, or
#: "*" for the whole module. Keep it short; every entry says why.
ALLOWED: dict[str, frozenset[str] | str] = {
    # The doors: each fetches the object and decides in one call (ADR 0140).
    "enrollments/access.py": "*",
    "media_delivery/access.py": "*",
    "assessments/access.py": "*",
    # The named predicates the doors build on, each beside the query listing what passes it:
    # the tenant role (admin > instructor > learner) ...
    "accounts/permissions.py": "*",
    # ... and a person's staff role on a course (owner, co-instructor, assistant).
    "courses/permissions.py": "*",
    # A definition, not a decision: the database constraint "one owner per course".
    "courses/models.py": frozenset({"CourseStaff.Meta"}),
    # The writer of a course's staff list validates and diffs the roles it is about to write
    # (at most one owner, demote before promote); the actor's own rights come from predicates.
    "courses/services/staff.py": frozenset({"course_staff_problems", "_staff_write"}),
}

ROLE_ENUMS = frozenset({"Role", "CourseStaffRole"})
#: The role constants and role sets of courses/permissions.py (and accounts' STAFF_ROLES).
ROLE_CONSTANTS = frozenset(
    {
        "ADMIN",
        "OWNER",
        "CO_INSTRUCTOR",
        "ASSISTANT",
        "STAFF_ROLES",
        "EDITING_ROLES",
        "GRADING_ROLES",
        "STAFF_MANAGING_ROLES",
        "TEACHING_ROLES",
    }
)
#: Members of a choices class that list every role: membership in them validates input.
CHOICE_LISTS = frozenset({"values", "names", "labels", "choices"})
QUERY_METHODS = frozenset({"filter", "exclude", "get", "Q"})
ROLE_PREDICATE_ATTRIBUTES = frozenset({"is_tenant_admin", "can_use_admin"})


def _identifier(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_role_word(name: str | None) -> bool:
    return name is not None and (name == "role" or name.endswith("_role") or name in ROLE_CONSTANTS)


def _mentions_role(node: ast.AST) -> bool:
    for child in ast.walk(node):
        name = _identifier(child)
        if name in ROLE_ENUMS or _is_role_word(name):
            return True
    return False


def _is_choice_list(node: ast.AST) -> bool:
    """`Role.values`, `CourseStaffRole.choices`, ...: every role, not a chosen one."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr in CHOICE_LISTS
        and _identifier(node.value) in ROLE_ENUMS
    )


def _compares_role(node: ast.Compare) -> bool:
    operands = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
        if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
            continue
        if isinstance(op, ast.In | ast.NotIn) and _is_choice_list(right):
            continue
        if _mentions_role(left) or _mentions_role(right):
            return True
    return False


def _queries_by_role(node: ast.Call) -> bool:
    if _identifier(node.func) not in QUERY_METHODS:
        return False
    return any(kw.arg and "role" in kw.arg.split("__") for kw in node.keywords)


def _reads_role_predicate_attribute(
    node: ast.AST, parent: ast.AST | None
) -> TypeGuard[ast.Attribute | ast.Call]:
    if isinstance(node, ast.Attribute) and node.attr in ROLE_PREDICATE_ATTRIBUTES:
        # `permissions.is_tenant_admin(user)` calls the predicate; `user.is_tenant_admin` reads it.
        return not (isinstance(parent, ast.Call) and parent.func is node)
    if isinstance(node, ast.Call) and _identifier(node.func) in {"getattr", "hasattr"}:
        return any(
            isinstance(arg, ast.Constant) and arg.value in ROLE_PREDICATE_ATTRIBUTES for arg in node.args[1:2]
        )
    return False


class _Scanner(ast.NodeVisitor):
    def __init__(self, allowed_scopes: frozenset[str]):
        self.allowed_scopes = allowed_scopes
        self.scope: list[str] = []
        self.parents: list[ast.AST] = []
        self.found: list[tuple[int, str]] = []

    def _in_allowed_scope(self) -> bool:
        prefixes = (".".join(self.scope[:depth]) for depth in range(1, len(self.scope) + 1))
        return any(prefix in self.allowed_scopes for prefix in prefixes)

    def generic_visit(self, node: ast.AST) -> None:
        if not self._in_allowed_scope():
            parent = self.parents[-1] if self.parents else None
            if isinstance(node, ast.Compare) and _compares_role(node):
                self.found.append((node.lineno, "compares a role"))
            elif isinstance(node, ast.Call) and _queries_by_role(node):
                self.found.append((node.lineno, "narrows a query by role"))
            if _reads_role_predicate_attribute(node, parent):
                self.found.append((node.lineno, "reads a role attribute instead of asking its predicate"))
        scoped = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.scope.append(node.name)
        self.parents.append(node)
        super().generic_visit(node)
        self.parents.pop()
        if scoped:
            self.scope.pop()


def role_checks(source: str, *, allowed_scopes: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, what) for every role comparison in `source` outside `allowed_scopes`."""
    scanner = _Scanner(allowed_scopes)
    scanner.visit(ast.parse(source))
    return sorted(set(scanner.found))


def _app_dirs() -> list[Path]:
    """Every app of INSTALLED_APPS that lives here, and every top-level package (so an app is
    covered before anyone registers it, and `core`, which is no Django app, too)."""
    dirs = {Path(config.path).resolve() for config in apps.get_app_configs()}
    dirs = {path for path in dirs if path.is_relative_to(ROOT)}
    dirs |= {path.parent for path in ROOT.glob("*/__init__.py")}
    return sorted(path for path in dirs if path.name not in NOT_APPS and not path.name.startswith("."))


def _modules() -> list[Path]:
    return [
        path
        for app in _app_dirs()
        for path in sorted(app.rglob("*.py"))
        if not SKIPPED_DIRS.intersection(path.relative_to(app).parts[:-1])
    ]


def test_no_module_outside_the_doors_compares_roles():
    violations = []
    for path in _modules():
        relative = path.relative_to(ROOT).as_posix()
        allowed = ALLOWED.get(relative, frozenset())
        if allowed == "*":
            continue
        found = role_checks(path.read_text(), allowed_scopes=allowed)
        violations.extend(f"{relative}:{line}: {what}" for line, what in found)
    assert not violations, (
        "Role checks outside the doors and permission modules; ask a door or a named predicate "
        "(accounts/permissions.py, courses/permissions.py) instead:\n" + "\n".join(violations)
    )


def test_the_scan_covers_every_app_and_the_doors():
    scanned = {path.relative_to(ROOT).parts[0] for path in _modules()}
    expected = {"core", "tenants", "accounts", "courses", "enrollments", "media_delivery", "assessments"}
    assert expected | {"analytics", "lms"} <= scanned
    for relative in ALLOWED:
        assert (ROOT / relative).is_file(), f"{relative} is allowed to compare roles but does not exist"


def _scopes(node: ast.AST, prefix: str = "") -> set[str]:
    names = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(prefix + child.name)
            names |= _scopes(child, prefix + child.name + ".")
        else:
            names |= _scopes(child, prefix)
    return names


def test_every_allowed_scope_exists():
    """A stale allow-list entry would silently allow whatever later takes its name."""
    for relative, scopes in ALLOWED.items():
        if scopes == "*":
            continue
        names = _scopes(ast.parse((ROOT / relative).read_text()))
        assert scopes <= names, f"{relative}: no {sorted(scopes - names)}"


def test_the_scanner_catches_planted_role_checks():
    planted = """
from accounts.models import Role
from courses.models import CourseStaffRole
from courses.permissions import OWNER, course_role

def view(request, course):
    if request.user.role == Role.ADMIN:
        pass
    if user.role in (Role.ADMIN, Role.INSTRUCTOR):
        pass
    if course_role(request.user, course) != OWNER:
        pass
    if row.role not in [CourseStaffRole.ASSISTANT]:
        pass
    admins = User.objects.filter(role=Role.ADMIN)
    staff = Course.objects.exclude(staff__role__in=["owner"])
    q = Q(role="admin")
    if request.user.is_tenant_admin:
        pass
    if getattr(request.user, "can_use_admin", False):
        pass
"""
    found = role_checks(planted)
    assert [line for line, _ in found] == [7, 9, 11, 13, 15, 16, 17, 18, 20]


def test_the_scanner_leaves_validation_assignment_and_predicates_alone():
    clean = """
from accounts.permissions import is_tenant_admin
from courses import permissions

def service(*, actor, email, role=Role.LEARNER):
    if role not in Role.values:
        raise ValueError(role)
    if not is_tenant_admin(actor) or not permissions.is_tenant_admin(actor):
        raise ValueError(actor)
    user = User.objects.create_user(email=email, role=role)
    user.role = Role.ADMIN
    return user
"""
    assert role_checks(clean) == []


def test_an_allowed_scope_covers_only_itself():
    source = """
class CourseStaff:
    class Meta:
        constraints = [Q(role="owner")]

def elsewhere():
    return Q(role="owner")
"""
    found = role_checks(source, allowed_scopes=frozenset({"CourseStaff.Meta"}))
    assert found == [(7, "narrows a query by role")]
