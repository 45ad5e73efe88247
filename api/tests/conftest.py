"""Keys and clients for the API tests."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from api.keys import SCOPES, api_key_create
from tests.fixtures import host_of


def make_key(tenant, *, scopes=SCOPES, rate: int = 0, role: str = "admin") -> str:
    """The plaintext of a new key of `tenant`, made by (and acting as) its admin."""
    connection.set_tenant(tenant)
    try:
        admin = get_user_model().objects.get(email=f"admin@{tenant.slug}.test")
        key = api_key_create(
            actor=admin, name=f"test key {role}", scopes=list(scopes), rate_limit_per_minute=rate
        )
        if role != "admin":
            # A key acting as another person: re-point it (the service makes keys for admins only).
            key.key.created_by = get_user_model().objects.get(email=f"{role}@{tenant.slug}.test")
            key.key.save(update_fields=["created_by"])
        return key.plaintext
    finally:
        connection.set_schema_to_public()


def api_client(tenant, key: str | None = None) -> Client:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return Client(HTTP_HOST=host_of(tenant), **headers)


@pytest.fixture
def admin_key(tenant) -> str:
    return make_key(tenant)


@pytest.fixture
def other_admin_key(other_tenant) -> str:
    return make_key(other_tenant)
