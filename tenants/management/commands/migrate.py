# `migrate` (used by the test runner too) is migrate_schemas, so the template schema
# is always migrated with everything else.
from .migrate_schemas import Command  # noqa: F401
