"""schemathesis against the live OpenAPI document: for both tenants and every role, no answer is a
5xx and every answer matches the schema (status, content type, body).

Calls go through the WSGI app in this process, so what the generated requests write is rolled
back with the test (the session's tenants stay as they were for the other tests).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.urls import api

from .conftest import make_key

_doc = api.get_openapi_schema(path_prefix="/api/v1/")
schema = schemathesis.openapi.from_dict(_doc)
schema.app = WSGIHandler()

ROLES = ["admin", "instructor", "learner", None]


@pytest.fixture(params=["acme", "globex"])
def site(request):
    # As Django's test client does: the end of a request must not close the test's connection
    # (it holds the transaction that rolls every generated write back).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield request.param
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def keys(site, db) -> dict:
    """One key per role of the site, made once per test (not once per generated example)."""
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug=site)
    return {role: make_key(tenant, role=role) for role in ROLES if role is not None}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_endpoint_answers_within_its_schema(case, role, site, keys):
    headers = {"Host": f"{site}.localhost"}
    if role is not None:
        headers["Authorization"] = f"Bearer {keys[role]}"
    # Every check but "a schema-valid request is accepted": the services refuse valid-shaped
    # requests for their own reasons (a duplicate enrollment, a draft that cannot be published),
    # with a documented problem body, which the other checks hold to the schema.
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
