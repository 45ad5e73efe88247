"""Benchmark harness only: the project with the access policy replaced by allow-all.

Lets `lesson_page_rps` compare the lesson page under the full policy with the same page
under a trivial one, in the same run. Nothing in the product can switch the policy off;
this module patches it in a separate server process.
"""

# Order matters: lms.wsgi sets Django up before the app modules are imported.
from lms.wsgi import application  # noqa: I001

from enrollments import access, selectors, services, views


def _allow_all(**_):
    return access.ALLOW


def _no_locks(**_):
    return {}


for module in (access, selectors, services, views):
    if hasattr(module, "lesson_decision"):
        module.lesson_decision = _allow_all
for module in (access, views):
    if hasattr(module, "locked_lessons"):
        module.locked_lessons = _no_locks

__all__ = ["application"]
