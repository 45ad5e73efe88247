"""Tenant admins make and revoke API keys in the admin; the key is shown once."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from api.models import ApiKey
from tests.fixtures import client_for

from .conftest import api_client

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_key_sees_it_once_and_it_works(tenant):
    client = client_for(tenant, as_role="admin")
    assert client.get("/admin/api/apikey/add/").status_code == 200
    response = client.post(
        "/admin/api/apikey/add/", {"name": "CRM sync", "scopes": ["catalog:read"], "rate_limit_per_minute": 0}
    )
    assert response.status_code == 200, response.content[:500]
    plaintext = re.search(rb'value="(lms_[A-Za-z0-9_-]+)"', response.content).group(1).decode()
    assert api_client(tenant, plaintext).get("/api/v1/courses").status_code == 200
    listing = client.get("/admin/api/apikey/").content.decode()
    assert "CRM sync" in listing and plaintext not in listing
    connection.set_tenant(tenant)
    key = ApiKey.objects.get(name="CRM sync")
    connection.set_schema_to_public()
    client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert api_client(tenant, plaintext).get("/api/v1/courses").status_code == 401


def test_an_instructor_cannot_reach_api_keys(tenant):
    client = client_for(tenant, as_role="instructor")
    assert client.get("/admin/api/apikey/").status_code == 403
    assert client.post("/admin/api/apikey/add/", {"name": "x", "scopes": ["catalog:read"]}).status_code == 403


def test_an_empty_name_or_no_scope_is_a_field_error_and_makes_nothing(tenant):
    client = client_for(tenant, as_role="admin")
    response = client.post("/admin/api/apikey/add/", {"name": "", "rate_limit_per_minute": 0})
    assert response.status_code == 200 and b"errorlist" in response.content
    connection.set_tenant(tenant)
    assert not ApiKey.objects.exists()


def test_the_reference_page_loads_swagger_from_our_static_files(tenant):
    page = api_client(tenant).get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in html and "/api/v1/openapi.json" in html
    assert "cdn" not in html.lower()
