"""How a person appears in domain events (core.events) and so in webhook bodies."""

from __future__ import annotations


def person_data(user) -> dict:
    return {"id": user.pk, "email": user.email, "name": user.full_name}
