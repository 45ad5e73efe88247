"""Every write to what creators author, one service per write (ADR 0145).

Keyword-only, atomic, checked against `courses.permissions`, audited with before and after
(`accounts.audit`). The admin, the builder endpoints and the API call these; none writes
authoring rows itself. Import from here: `from courses.services import course_create`.
"""

from .categories import CATEGORY_FIELDS, category_create, category_delete, category_restore, category_update
from .common import CourseError, LessonChanged, _require_admin, _require_editor, next_position
from .curriculum import (
    LESSON_FIELDS,
    MODULE_FIELDS,
    lesson_create,
    lesson_delete,
    lesson_move,
    lesson_problems,
    lesson_reorder,
    lesson_restore,
    lesson_save,
    lesson_update,
    module_create,
    module_delete,
    module_move,
    module_problems,
    module_reorder,
    module_restore,
    module_save,
    module_update,
)
from .lifecycle import (
    COURSE_FIELDS,
    course_archive,
    course_create,
    course_delete,
    course_restore,
    course_unarchive,
    course_update,
)
from .prerequisites import (
    OTHER_COURSE_LESSON,
    lesson_set_prerequisites,
    module_prerequisite_problems,
    module_set_prerequisites,
    prerequisite_problems,
)
from .publishing import course_publish, course_publish_problems, revision_restore
from .staff import course_staff_problems, course_staff_set

__all__ = [
    "CATEGORY_FIELDS",
    "COURSE_FIELDS",
    "LESSON_FIELDS",
    "MODULE_FIELDS",
    "OTHER_COURSE_LESSON",
    "CourseError",
    "LessonChanged",
    "_require_admin",
    "_require_editor",
    "category_create",
    "category_delete",
    "category_restore",
    "category_update",
    "course_archive",
    "course_create",
    "course_delete",
    "course_publish",
    "course_publish_problems",
    "course_restore",
    "course_staff_problems",
    "course_staff_set",
    "course_unarchive",
    "course_update",
    "lesson_create",
    "lesson_delete",
    "lesson_move",
    "lesson_problems",
    "lesson_reorder",
    "lesson_restore",
    "lesson_save",
    "lesson_set_prerequisites",
    "lesson_update",
    "module_create",
    "module_delete",
    "module_move",
    "module_prerequisite_problems",
    "module_problems",
    "module_reorder",
    "module_restore",
    "module_save",
    "module_set_prerequisites",
    "module_update",
    "next_position",
    "prerequisite_problems",
    "revision_restore",
]
