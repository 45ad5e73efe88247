"""Every operation of the REST API, aimed at another tenant's objects or sent with another
tenant's credentials, reveals and changes nothing.

The operations come from the live OpenAPI document: a new endpoint is walked the day it
appears, and one whose path parameter this walk cannot fill fails
`test_every_api_operation_is_walked`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from api.keys import SCOPES, api_key_create
from api.urls import api
from assessments.models import Certificate
from courses.models import Course, Lesson, Module
from enrollments.models import Enrollment
from tests.fixtures import host_of
from tests.test_url_isolation import MARKER, foreign  # noqa: F401 - the fixture is used by name
from webhooks.models import WebhookDelivery, WebhookEndpoint

ROLES = ["admin", "instructor", "learner"]
# A body every write accepts in shape (extra members are ignored), so that the request gets
# past validation to the door, which must answer for the object.
BODY = {
    "title": "Taken over",
    "ids": [1, 2],
    "answers": {"1": {"choice": 1}},
    "role": "admin",
    "is_active": False,
    "email": "intruder@acme.test",
    "summary": "Taken",
    "position": 1,
    "duration": 10,
    "watched": 5,
    "filename": "taken.pdf",
    "content_type": "application/pdf",
    "size": 1000,
    "text": "Taken",
}
# Operations that need no credentials (they answer only for this tenant's own data).
PUBLIC = {("get", "/api/v1/certificates/{code}/verify")}


def _operations():
    doc = api.get_openapi_schema(path_prefix="/api/v1/")
    for path, operations in doc["paths"].items():
        for method in operations:
            yield method, path


def _substitute(path: str, values: Mapping[str, object]) -> str:
    """The OpenAPI path with each {name} replaced by values[name]."""
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)


def _fill(path: str, objects: dict) -> list[str]:
    """Concrete URLs for an operation, with globex's objects (and acme's own course with them)."""
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return []  # nothing foreign to aim at (lists answer for the caller's own tenant)
    values = {
        "course_id": objects["course"],
        "module_id": objects["module"],
        "lesson_id": objects["lesson"],
        "attempt_id": objects.get("attempt"),
        "person_id": objects["user"],
        "invitation_id": objects["invitation"],
        "code": objects.get("certificate_code"),
        "asset_id": objects.get("asset_id"),
        "revision_id": objects.get("revision"),
        "endpoint_id": objects.get("webhook_endpoint"),
        "delivery_id": objects.get("webhook_delivery"),
    }
    urls = []
    for slug in ("globex-secret-course", objects["own_course_slug"]):
        if "slug" not in names and slug != "globex-secret-course":
            continue
        if slug != "globex-secret-course" and not (set(names) - {"slug"}):
            continue  # acme's own course alone is not foreign
        filled = {**values, "slug": slug}
        if any(filled.get(n) is None for n in names):
            return []
        urls.append(_substitute(path, filled))
    return urls


def _key(tenant, role: str) -> str:
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.get(email=f"{role}@{tenant.slug}.test")
        admin = get_user_model().objects.get(email=f"admin@{tenant.slug}.test")
        made = api_key_create(actor=admin, name=f"walk {role}", scopes=list(SCOPES))
        made.key.created_by = user
        made.key.save(update_fields=["created_by"])
        return made.plaintext


def _call(client, method: str, url: str, **headers):
    if method in ("get", "delete"):
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, BODY, content_type="application/json", **headers)


@pytest.fixture
def foreign_api(request, other_tenant):
    objects = request.getfixturevalue("foreign")
    with schema_context(other_tenant.schema_name):
        certificate = Certificate.objects.filter(pk=objects["certificate"]).first()
        objects["certificate_code"] = certificate.code if certificate else None
    return objects


def test_every_api_operation_is_walked():
    sample = {
        k: 1
        for k in (
            "course",
            "module",
            "lesson",
            "attempt",
            "user",
            "invitation",
            "certificate_code",
            "asset_id",
            "revision",
            "webhook_endpoint",
            "webhook_delivery",
        )
    } | {"own_course_slug": "x"}
    unfilled = [f"{m.upper()} {p}" for m, p in _operations() if "{" in p and not _fill(p, sample)]
    assert unfilled == [], f"API operations the isolation walk cannot aim at another tenant: {unfilled}"


CALLERS = [(role, via) for role in ROLES for via in ("key", "token")] + [(None, "none")]


@pytest.mark.parametrize(("role", "via"), CALLERS, ids=lambda x: x or "anonymous")
def test_no_api_operation_of_acme_reveals_or_changes_a_globex_object(
    foreign_api, tenant, other_tenant, role, via, client
):
    headers = {"HTTP_HOST": host_of(tenant)}
    if role is not None:
        key = _key(tenant, role)
        if via == "token":
            answer = client.post("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {key}", **headers)
            key = answer.json()["access_token"]
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    with schema_context(other_tenant.schema_name):
        before = (
            list(Course.objects.values_list("pk", "title", "status", "deleted_at").order_by("pk")),
            list(Module.objects.values_list("pk", "title", "position", "deleted_at").order_by("pk")),
            list(Lesson.objects.values_list("pk", "title", "position", "deleted_at").order_by("pk")),
            list(get_user_model().objects.values_list("pk", "role", "is_active").order_by("pk")),
            Enrollment.objects.count(),
            list(WebhookEndpoint.objects.values_list("pk", "url", "is_active", "secret").order_by("pk")),
            WebhookDelivery.objects.count(),
        )
    checked = 0
    for method, path in _operations():
        for url in _fill(path, foreign_api):
            response = _call(client, method, url, **headers)
            checked += 1
            body = response.content.decode(errors="replace")
            assert MARKER not in body, f"{method.upper()} {url} as {role} shows globex's course"
            assert "walker@globex.test" not in body and "invitee@globex.test" not in body, url
            assert '/globex-secret"' not in body and "whsec_" not in body, url
            assert response.status_code in (401, 403, 404), (
                f"{method.upper()} {url} as {role} via {via} answered {response.status_code}: {body[:200]}"
            )
    assert checked > 25
    with schema_context(other_tenant.schema_name):
        after = (
            list(Course.objects.values_list("pk", "title", "status", "deleted_at").order_by("pk")),
            list(Module.objects.values_list("pk", "title", "position", "deleted_at").order_by("pk")),
            list(Lesson.objects.values_list("pk", "title", "position", "deleted_at").order_by("pk")),
            list(get_user_model().objects.values_list("pk", "role", "is_active").order_by("pk")),
            Enrollment.objects.count(),
            list(WebhookEndpoint.objects.values_list("pk", "url", "is_active", "secret").order_by("pk")),
            WebhookDelivery.objects.count(),
        )
    assert after == before


@pytest.mark.parametrize("via", ["key", "token"])
def test_every_api_operation_refuses_another_tenants_credentials(tenant, other_tenant, via, client):
    """A globex key or token is 401 on every acme endpoint, even where acme has the object."""
    key = _key(other_tenant, "admin")
    if via == "token":
        answer = client.post(
            "/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST=host_of(other_tenant)
        )
        key = answer.json()["access_token"]
    sample = {"course": 1, "module": 1, "lesson": 1, "attempt": 1, "user": 1, "invitation": 1, "revision": 1}
    sample |= {"webhook_endpoint": 1, "webhook_delivery": 1}
    sample |= {"asset_id": "00000000-0000-0000-0000-000000000001"}
    sample |= {"certificate_code": "X", "own_course_slug": "x"}
    checked = 0
    for method, path in _operations():
        if (method, path) in PUBLIC or path == "/api/v1/openapi.json":
            continue
        urls = _fill(path, sample)[:1] if "{" in path else [path]
        for url in urls:
            url = url.replace("globex-secret-course", "any-course")
            response = _call(
                client, method, url, HTTP_HOST=host_of(tenant), HTTP_AUTHORIZATION=f"Bearer {key}"
            )
            checked += 1
            assert response.status_code == 401, (
                f"{method.upper()} {url} with globex's {via}: {response.status_code}"
            )
    assert checked > 25
