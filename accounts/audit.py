"""audit_record(): the one way a write leaves a trace in the tenant's audit log.

Call it inside the service's transaction, so the trace and the change commit together.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEntry


def audit_record(
    *, actor, action: str, target: models.Model, before: Any = None, after: Any = None
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:300],
        before=before,
        after=after,
    )
