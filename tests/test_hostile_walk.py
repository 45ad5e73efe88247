"""No input gives a 500: every URL pattern, as every role and anonymously, with hostile input.

The patterns come from the resolvers of both urlconfs (the tenant site with its admin, and
the operator site). Each is sent GET and POST with hostile values in its path parameters
(chosen by converter, plus real ids so the view body runs), its query string, its form
fields and, for the JSON endpoints, its JSON body (a fixed list and Hypothesis-generated
documents). Any 5xx fails, and so does a page that shows Django's debug output.

A URL pattern that is not in KNOWN_TENANT_ROUTES / KNOWN_PUBLIC_ROUTES fails
`test_every_url_pattern_is_known`: add it there, with the values its parameters take.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import AuditEntry
from accounts.services import invitation_create
from api.keys import api_key_create
from assessments.models import AssessmentKind, Certificate, CertificateSettings, QuestionPool
from assessments.services import attempt_start
from assessments.tests.factories import make_assessed_course
from courses.models import Category, CourseRevision, CourseStaff, CourseStaffRole
from enrollments.services import enrollment_create
from media_delivery.models import MediaAsset
from tests.fixtures import host_of
from webhooks.services import webhook_endpoint_create, webhook_endpoint_send_test

DEBUG_MARKERS = ("Django tried these URL patterns", "URLconf defined", "Traceback (most recent call last)")
# Requests come from a documentation address, so the walk's failed sign-ins never throttle
# the sign-ins of other tests (accounts/throttle.py counts per address).
WALK_ADDRESS = "192.0.2.77"

ADMIN_MODELS_TENANT = (
    "accounts/user",
    "accounts/invitation",
    "accounts/auditentry",
    "courses/category",
    "courses/course",
    "courses/module",
    "courses/lesson",
    "courses/courserevision",
    "enrollments/enrollment",
    "media_delivery/mediaasset",
    "assessments/assessment",
    "assessments/question",
    "assessments/questionpool",
    "assessments/certificatesettings",
    "assessments/certificate",
    "api/apikey",
    "webhooks/webhookendpoint",
    "webhooks/webhookdelivery",
)
ADMIN_MODELS_PUBLIC = ("tenants/tenant", "accounts/user")
ADMIN_MODEL_ROUTES = (
    "",
    "add/",
    "<path:object_id>/history/",
    "<path:object_id>/delete/",
    "<path:object_id>/change/",
    "<path:object_id>/",
)
ADMIN_SITE_ROUTES = (
    "",
    "login/",
    "logout/",
    "password_change/",
    "password_change/done/",
    "autocomplete/",
    "jsi18n/",
    "r/<path:content_type_id>/<path:object_id>/",
)


# Every pattern of the tenant site. A new one must be added here (and given parameter values below).
def _api_routes() -> set[str]:
    """The REST API's routes, from its OpenAPI document (the list a new endpoint must join to
    exist at all); schemathesis fuzzes their bodies and queries (api/tests/test_schema_fuzz.py)."""
    from api.urls import api

    doc = api.get_openapi_schema(path_prefix="/api/v1/")
    routes = {re.sub(r"{(\w+)}", r"<\1>", path).removeprefix("/") for path in doc["paths"]}
    # Besides the operations: the reference page, the document itself and ninja's root route.
    return routes | {"api/v1/docs/", "api/v1/openapi.json", "api/v1/"}


API_ROUTES = _api_routes()

KNOWN_TENANT_ROUTES = (
    {
        "",
        "healthz",
        "accounts/login/",
        "accounts/logout/",
        "accounts/signup/",
        "accounts/password-reset/",
        "accounts/password-reset/sent/",
        "accounts/reset/<uidb64>/<token>/",
        "accounts/reset/done/",
        "accounts/invitations/<str:token>/",
        "courses/",
        "courses/<slug:slug>/preview/",
        "courses/<slug:slug>/preview/lessons/<int:lesson_id>/",
        "courses/<slug:slug>/",
        "courses/<slug:slug>/enroll/",
        "learning/",
        "learning/<slug:slug>/continue/",
        "learning/<slug:slug>/lessons/<int:lesson_id>/",
        "learning/<slug:slug>/lessons/<int:lesson_id>/complete/",
        "learning/<slug:slug>/lessons/<int:lesson_id>/progress/",
        "assessments/grading/",
        "assessments/grading/<int:attempt_id>/",
        "assessments/<slug:slug>/lessons/<int:lesson_id>/",
        "assessments/<slug:slug>/lessons/<int:lesson_id>/start/",
        "assessments/<slug:slug>/lessons/<int:lesson_id>/uploads/",
        "assessments/<slug:slug>/lessons/<int:lesson_id>/uploads/<uuid:asset_id>/finish/",
        "assessments/<slug:slug>/lessons/<int:lesson_id>/uploads/<uuid:asset_id>/abort/",
        "assessments/<slug:slug>/attempts/<int:attempt_id>/",
        "assessments/<slug:slug>/attempts/<int:attempt_id>/answers/",
        "assessments/<slug:slug>/attempts/<int:attempt_id>/submit/",
        "assessments/<slug:slug>/attempts/<int:attempt_id>/file/",
        "assessments/<slug:slug>/gradebook/",
        "certificates/",
        "certificates/verify/",
        "certificates/verify/<str:code>/",
        "certificates/<str:code>/download/",
        "media/upload/",
        "media/uploads/",
        "media/uploads/<uuid:asset_id>/parts/",
        "media/uploads/<uuid:asset_id>/finish/",
        "media/uploads/<uuid:asset_id>/abort/",
        "media/<uuid:asset_id>/",
        "media/<uuid:asset_id>/poster/",
        "media/<uuid:asset_id>/hls/<str:name>",
        "admin/branding/",
        "admin/courses/course/markdown-preview/",
        "admin/courses/course/<int:course_id>/publish/",
        "admin/courses/course/<int:course_id>/archive/",
        "admin/courses/course/<int:course_id>/unarchive/",
        "admin/courses/course/<int:course_id>/undelete/",
        "admin/courses/course/<int:course_id>/modules/add/",
        "admin/courses/course/<int:course_id>/modules/<int:module_id>/move/",
        "admin/courses/course/<int:course_id>/modules/<int:module_id>/undelete/",
        "admin/courses/course/<int:course_id>/lessons/<int:lesson_id>/move/",
        "admin/courses/course/<int:course_id>/lessons/<int:lesson_id>/undelete/",
        "admin/courses/course/<int:course_id>/revisions/<int:revision_id>/restore/",
        "admin/^(?P<app_label>accounts|courses|enrollments|media_delivery|assessments|api|webhooks)/$",
        "admin/(?P<url>.*)$",
        "analytics/",
        "analytics/beacon/",
        "analytics/courses/<int:course_id>/",
        "builder/<slug:slug>/",
        "builder/<slug:slug>/modules/",
        "builder/<slug:slug>/modules/order/",
        "builder/<slug:slug>/modules/<int:module_id>/",
        "builder/<slug:slug>/modules/<int:module_id>/archive/",
        "builder/<slug:slug>/modules/<int:module_id>/restore/",
        "builder/<slug:slug>/modules/<int:module_id>/lessons/",
        "builder/<slug:slug>/modules/<int:module_id>/lessons/order/",
        "builder/<slug:slug>/lessons/<int:lesson_id>/",
        "builder/<slug:slug>/lessons/<int:lesson_id>/edit/",
        "builder/<slug:slug>/lessons/<int:lesson_id>/archive/",
        "builder/<slug:slug>/lessons/<int:lesson_id>/restore/",
    }
    | {f"admin/{r}" for r in ADMIN_SITE_ROUTES}
    | {f"admin/{m}/{r}" for m in ADMIN_MODELS_TENANT for r in ADMIN_MODEL_ROUTES}
    | API_ROUTES
)

KNOWN_PUBLIC_ROUTES = (
    {
        "",
        "healthz",
        "admin/accounts/user/<id>/password/",
        "admin/^(?P<app_label>tenants|accounts)/$",
        "admin/(?P<url>.*)$",
    }
    | {f"admin/{r}" for r in ADMIN_SITE_ROUTES}
    | {f"admin/{m}/{r}" for m in ADMIN_MODELS_PUBLIC for r in ADMIN_MODEL_ROUTES}
)

# Endpoints that read a JSON body.
JSON_ROUTES = {
    "learning/<slug:slug>/lessons/<int:lesson_id>/progress/",
    "assessments/<slug:slug>/lessons/<int:lesson_id>/uploads/",
    "assessments/<slug:slug>/lessons/<int:lesson_id>/uploads/<uuid:asset_id>/finish/",
    "assessments/<slug:slug>/attempts/<int:attempt_id>/answers/",
    "media/uploads/",
    "media/uploads/<uuid:asset_id>/parts/",
    "media/uploads/<uuid:asset_id>/finish/",
    "media/uploads/<uuid:asset_id>/abort/",
    "analytics/beacon/",
} | {route for route in API_ROUTES if route not in ("api/v1/openapi.json", "api/v1/", "api/v1/docs/")}

# Hostile path values by converter; the first value of each parameter is a real one (filled in later).
HOSTILE_BY_CONVERTER = {
    "int": ["0", "99999999999999999999"],
    "slug": ["x" * 10_000],
    "str": ["%ED%A0%80", "x" * 10_000, "..%5c360p.m3u8"],
    "path": ["abc", "99999999999999999999"],
    "uuid": [str(uuid.UUID(int=0))],
    "re": ["x" * 10_000],
}

LONG = "x" * 10_000
# Refused by the edge before routing, whatever the URL and whoever asks.
EDGE_QUERIES = ["q=%00&start=%00"]
HOSTILE_QUERIES = [
    "q=%ED%A0%80&o=%ED%A0%80&next=%ED%A0%80",
    "q="
    + LONG
    + "&category="
    + LONG
    + "&start=9999-12-31&end=0001-01-01&export=at-risk&p=-1&o=abc&download=1&all=",
    "start=0001-01-01&end=9999-12-31&format=json&page=99999999999999999999&o=-1.99999&id__exact=abc"
    "&pk__in=1,x&status__exact="
    + LONG
    + "&issued_at__year=0&e=1&_popup=1&_to_field=password&next=//evil.test",
]
ADMIN_PAGE_QUERIES = [
    HOSTILE_QUERIES[0],
    "_popup=1&_to_field=password&_changelist_filters=p%3D-1%26o%3Dx%26q%3D%25&next=//evil.test",
]
EDGE_FORM = {"title": "a\x00b", "q": "x"}
HOSTILE_FORMS = [
    {
        "title": LONG,
        "name": LONG,
        "slug": LONG,
        "body": LONG,
        "email": LONG,
        "username": LONG,
        "password": LONG,
        "password1": LONG,
        "password2": LONG,
        "new_password1": "x",
        "new_password2": "y",
        "code": LONG,
        "position": "-99999999999999999999",
        "size": "1e999",
        "start": "9999-12-31",
        "end": "0001-01-01",
        "score": "NaN",
        "points": "-1",
        "course": "abc",
        "lesson": "99999999999999999999",
        "direction": "sideways",
        "action": "delete_selected",
        "_selected_action": "abc",
        "index": "-1",
        "events": "[" * 1000,
        "text": "\u200f" * 1000,
        "primary_colour": LONG,
        "feedback": LONG,
        # The builder's reorder lists (ids, comma-separated).
        "module_ids": "1,x,-5," + LONG,
        "lesson_ids": "99999999999999999999,1",
        # The builder's lesson editor.
        "version": "99999999999999999999",
        "overwrite": "-1",
        "duration_minutes": "1e999",
    },
]
HOSTILE_JSON = [
    "[" * 1000 + "]" * 1000,
    '{"a":' * 1000 + "1" + "}" * 1000,
    '{"answers": {"1": {"text": "\\ud800"}}, "filename": "\\udc00.pdf"}',
    '{"answers": {"1": {"text": "a\\u0000b"}}, "events": ["\\u0000"]}',
    '{"position": 1e999, "duration": -1, "watched": 99999999999999999999999}',
    '{"size": -1, "filename": "' + LONG + '", "content_type": [], "kind": {}, "lesson": "x"}',
    '{"parts": 99999999999999999999, "part_numbers": [-1, 0, 1e308], "etags": {"1": null}}',
    '{"events": [{"type": "video.progress", "course_id": "1", "lesson_id": [], "position": "x"}]}',
    "[]",
    "{}",
    '"text"',
    "null",
    "1",
    "not json",
    "\xff\xfe",
    "",
]


def _walk(resolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _routes(urlconf: str) -> list[str]:
    return [route for route, _ in _walk(get_resolver(urlconf))]


@pytest.fixture(autouse=True)
def _beacon_budget_given_back(tenant):
    """The walk spends the beacon's per-minute budget of acme's people; later tests need it."""
    yield
    import time

    minute = int(time.time() // 60)
    with schema_context(tenant.schema_name):
        ids = get_user_model().objects.values_list("pk", flat=True)
        cache.delete_many([f"analytics:beacon:{pk}:{m}" for pk in ids for m in range(minute - 3, minute + 2)])


def test_every_url_pattern_is_known():
    for urlconf, known in (
        ("lms.urls_tenant", KNOWN_TENANT_ROUTES),
        ("lms.urls_public", KNOWN_PUBLIC_ROUTES),
    ):
        routes = set(_routes(urlconf))
        assert routes - known == set(), f"{urlconf}: URL patterns the hostile walk does not know"
        assert known - routes == set(), f"{urlconf}: patterns listed in the walk that no longer exist"


# --- values for the path parameters ----------------------------------------------------


@pytest.fixture
def acme_objects(tenant) -> dict:
    """Real objects of acme, so the walk's valid URLs run each view's body."""
    User = get_user_model()
    with schema_context(tenant.schema_name):
        admin = User.objects.get(email="admin@acme.test")
        learner = User.objects.get(email="learner@acme.test")
        instructor = User.objects.get(email="instructor@acme.test")
        category = Category.objects.create(name="Walk category", slug="walk-category")
        course, quiz_lesson, _quiz = make_assessed_course(slug="walk-quiz")
        type(course).objects.filter(pk=course.pk).update(category=category)
        CourseStaff.objects.create(course=course, user=instructor, role=CourseStaffRole.OWNER)
        other, assignment_lesson, _assignment = make_assessed_course(
            slug="walk-assignment", kind=AssessmentKind.ASSIGNMENT
        )
        CourseStaff.objects.create(course=other, user=instructor, role=CourseStaffRole.OWNER)
        enrollment = enrollment_create(user=learner, course=course)
        enrollment_create(user=learner, course=other)
        attempt = attempt_start(user=learner, course=course, assessment=_quiz)
        certificate = Certificate.objects.create(
            user=learner,
            course=course,
            code="WALK-CERT-0001",
            learner_name="Learner Acme",
            course_title=course.title,
            issued_at=timezone.now(),
        )
        asset = MediaAsset.objects.create(
            kind="video",
            key=f"t/{tenant.uuid}/media/walk/source.mp4",
            status="ready",
            lesson=quiz_lesson,
            owner=instructor,
            hls_prefix=f"t/{tenant.uuid}/media/walk/hls/",
            poster_key=f"t/{tenant.uuid}/media/walk/hls/poster.jpg",
            transcode_status="done",
        )
        invitation, link = invitation_create(actor=admin, email="walk-invitee@acme.test")
        # Nothing listens there: the test delivery is tried once and waits for a retry.
        hook = webhook_endpoint_create(
            actor=admin, url="http://127.0.0.1:9/walk", event_types=["quiz.graded"]
        )
        walk_delivery = webhook_endpoint_send_test(actor=admin, endpoint=hook)
        module = quiz_lesson.module
        objects = {
            "slug": course.slug,
            "lesson_id": quiz_lesson.pk,
            "attempt_id": attempt.pk,
            "asset_id": str(asset.pk),
            "endpoint_id": hook.pk,
            "delivery_id": walk_delivery.pk,
            "code": certificate.code,
            "name": "master.m3u8",
            "course_id": course.pk,
            "module_id": module.pk,
            "revision_id": CourseRevision.objects.filter(course=course).latest("id").pk,
            "uidb64": urlsafe_base64_encode(force_bytes(learner.pk)),
            "token": default_token_generator.make_token(learner),
            "invitation_token": link.rstrip("/").rsplit("/", 1)[-1],
            "content_type_id": ContentType.objects.get_for_model(type(course)).pk,
            "assignment": (other.slug, assignment_lesson.pk),
            "admin_objects": {
                "accounts/user": learner.pk,
                "accounts/invitation": invitation.pk,
                "accounts/auditentry": AuditEntry.objects.latest("id").pk,
                "courses/category": category.pk,
                "courses/course": course.pk,
                "courses/module": module.pk,
                "courses/lesson": quiz_lesson.pk,
                "courses/courserevision": CourseRevision.objects.filter(course=course).latest("id").pk,
                "enrollments/enrollment": enrollment.pk,
                "media_delivery/mediaasset": asset.pk,
                "assessments/assessment": _quiz.pk,
                "assessments/question": _quiz.questions.first().pk,
                "assessments/questionpool": QuestionPool.objects.create(course=course, title="Walk bank").pk,
                "assessments/certificatesettings": CertificateSettings.objects.create(course=course).pk,
                "assessments/certificate": certificate.pk,
                "api/apikey": api_key_create(actor=admin, name="Walk key", scopes=["catalog:read"]).key.pk,
                "webhooks/webhookendpoint": hook.pk,
                "webhooks/webhookdelivery": walk_delivery.pk,
            },
            "person_id": learner.pk,
            "invitation_id": invitation.pk,
            "question_ids": [str(q.pk) for q in _quiz.questions.all()],
        }
    connection.set_schema_to_public()
    return objects


def _converter(route: str, name: str) -> str:
    match = re.search(rf"<(?:(\w+):)?{name}>", route)
    return (match.group(1) or "str") if match else "re"


def _valid_values(route: str, objects: dict) -> dict:
    values = {k: objects[k] for k in ("slug", "lesson_id", "attempt_id", "asset_id", "code", "name")}
    values |= {k: objects[k] for k in ("course_id", "module_id", "revision_id", "uidb64", "token")}
    values["content_type_id"] = objects["content_type_id"]
    values |= {k: objects.get(k, 1) for k in ("person_id", "invitation_id", "endpoint_id", "delivery_id")}
    values["lesson_id"] = objects["lesson_id"]
    if route.startswith("accounts/invitations/"):
        values["token"] = objects["invitation_token"]
    if "uploads/" in route and route.startswith("assessments/"):
        values["slug"], values["lesson_id"] = objects["assignment"]
    if route.startswith("admin/"):
        for model, pk in objects.get("admin_objects", {}).items():
            if route.startswith(f"admin/{model}/"):
                values["object_id"] = pk
        values.setdefault("object_id", objects["course_id"])
        values["id"] = objects.get("operator_id", 1)
    return values


def _fill(route: str, values: dict) -> str:
    if route.startswith("admin/^"):
        return "/admin/" + str(values.get("app_label", "courses")) + "/"
    if route == "admin/(?P<url>.*)$":
        return "/admin/" + str(values.get("url", "no-such-admin-page/"))
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


def urls_for(route: str, objects: dict) -> list[str]:
    """The valid URL of a pattern, then one URL per hostile value of each parameter."""
    names = re.findall(r"<(?:\w+:)?(\w+)>", route) or re.findall(r"\(\?P<(\w+)>", route)
    valid = _valid_values(route, objects)
    if route.startswith("admin/^"):
        valid["app_label"] = "courses"
    urls = [_fill(route, valid)]
    for name in names:
        for hostile in HOSTILE_BY_CONVERTER[_converter(route, name)]:
            urls.append(_fill(route, valid | {name: hostile}))
    return urls


# --- the walk ---------------------------------------------------------------------------


class Walk:
    """Sends requests and collects every 5xx or debug page instead of stopping at the first."""

    def __init__(self, client: Client, who: str):
        self.client, self.who, self.failures, self.sent = client, who, [], 0

    def send(self, method: str, url: str, **kwargs) -> None:
        self.sent += 1
        label = f"{method.upper()} {url[:120]} as {self.who} ({str(kwargs)[:160]})"
        try:
            # A savepoint per request: a database error must not poison the rest of the walk.
            with transaction.atomic():
                response = getattr(self.client, method)(url, **kwargs)
        except DatabaseError as exc:
            self.failures.append(f"{label}: database error {exc!r}"[:400])
            return
        if response.status_code >= 500:
            error = getattr(response, "exc_info", None)
            reason = repr(error[1]) if error else ""
            self.failures.append(f"{label}: {response.status_code} {reason}"[:400])
            return
        content_type = response.get("Content-Type", "")
        if not getattr(response, "streaming", False) and "text/html" in content_type:
            body = response.content.decode(errors="replace")
            if any(marker in body for marker in DEBUG_MARKERS):
                self.failures.append(f"{label}: shows Django's debug output")


FORM = "application/x-www-form-urlencoded"


def _client(host: str, user=None) -> Client:
    client = Client(HTTP_HOST=host, REMOTE_ADDR=WALK_ADDRESS, raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _edge(walk: Walk, url: str) -> None:
    """What the edge refuses before routing, whoever asks: to every page, and to the admin once."""
    for query in EDGE_QUERIES:
        walk.send("get", f"{url}?{query}")
    walk.send("get", f"{url}%00")
    walk.send("post", url, data=EDGE_FORM)
    walk.send("post", url, data=b"%00=\xff", content_type=FORM)
    walk.send("post", url, data="{}", content_type="application/json", CONTENT_LENGTH="abc")
    walk.send("get", url, HTTP_ACCEPT="application/json", HTTP_X_WALK="a\x00b")


def _walk_urlconf(walk: Walk, routes: list[str], objects: dict, *, relogin, edge: bool, staff: bool) -> None:
    for route in routes:
        urls = urls_for(route, objects)
        valid = urls[0]
        if edge or not route.startswith("admin/"):
            _edge(walk, valid)
        if route.startswith("admin/") and not staff:
            # The admin site refuses people without admin access before any admin view runs.
            walk.send("get", valid)
            walk.send("post", valid, data=HOSTILE_FORMS[0])
            continue
        for url in urls:
            walk.send("get", url)
        # An admin page other than a changelist reads no more than _popup/_changelist_filters/_to_field.
        admin_page = re.fullmatch(r"admin/\w+/\w+/", route) is None and route.startswith("admin/")
        for query in ADMIN_PAGE_QUERIES if admin_page else HOSTILE_QUERIES:
            walk.send("get", f"{valid}?{query}")
        for form in HOSTILE_FORMS:
            walk.send("post", valid, data=form)
        walk.send("post", valid, data=b"username=%ED%A0%80&title=\xed\xa0\x80", content_type=FORM)
        if route in JSON_ROUTES:
            for body in HOSTILE_JSON:
                walk.send("post", valid, data=body, content_type="application/json")
            walk.send("post", valid, data='{"events": []}', content_type="text/plain")
            walk.send("post", valid, data="events=%5B%5D", content_type="application/json")
        if "logout" in route:
            relogin()


ROLES = ["admin", "instructor", "learner", None]


@pytest.mark.parametrize("role", ROLES)
def test_no_tenant_url_answers_5xx_to_hostile_input(settings, tenant, acme_objects, role):
    if role is None:
        settings.DEBUG = True  # the demo's settings: still our error pages, never Django's debug pages
    User = get_user_model()
    with schema_context(tenant.schema_name):
        user = User.objects.get(email=f"{role}@acme.test") if role else None
        walk = Walk(_client(host_of(tenant), user), role or "anonymous")

    def relogin():
        if user is not None:
            with schema_context(tenant.schema_name):
                walk.client.force_login(user)

    _walk_urlconf(
        walk,
        _routes("lms.urls_tenant"),
        acme_objects,
        relogin=relogin,
        edge=role is None,
        staff=role in ("admin", "instructor"),
    )
    assert walk.sent > 500
    assert walk.failures == [], "\n".join(walk.failures)


@pytest.mark.parametrize("role", ["operator", None])
def test_no_operator_site_url_answers_5xx_to_hostile_input(tenant, role):
    User = get_user_model()
    connection.set_schema_to_public()
    operator = None
    if role:
        operator = User.objects.create_superuser(email="walk-operator@lms.test", password="walk-pass-2026")
    objects = {
        "slug": "x",
        "lesson_id": 1,
        "attempt_id": 1,
        "asset_id": str(uuid.uuid4()),
        "code": "x",
        "name": "x",
        "course_id": 1,
        "module_id": 1,
        "revision_id": 1,
        "uidb64": "x",
        "token": "x",
        "content_type_id": ContentType.objects.get_for_model(type(tenant)).pk,
        "operator_id": operator.pk if operator else 1,
        "admin_objects": {"tenants/tenant": tenant.pk, "accounts/user": operator.pk if operator else 1},
    }
    walk = Walk(_client("localhost", operator), role or "anonymous")

    def relogin():
        if operator is not None:
            walk.client.force_login(operator)

    _walk_urlconf(walk, _routes("lms.urls_public"), objects, relogin=relogin, edge=role is None, staff=True)
    assert walk.sent > 150
    assert walk.failures == [], "\n".join(walk.failures)


# --- generated JSON bodies --------------------------------------------------------------

KEYS = [
    "answers",
    "events",
    "position",
    "duration",
    "watched",
    "filename",
    "content_type",
    "size",
    "kind",
    "lesson",
    "parts",
    "part_numbers",
    "etags",
    "type",
    "course_id",
    "lesson_id",
    "text",
    "choice",
    "choices",
    "value",
]
HOSTILE_TEXT = st.sampled_from(["\ud800", "\udfff", "\x00", "x" * 10_000, "", "../../etc/passwd", "\\"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | HOSTILE_TEXT
)


def _documents(question_ids: list[str]):
    keys = st.sampled_from(KEYS + question_ids) | st.text(max_size=8) | HOSTILE_TEXT
    values = st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )
    return st.dictionaries(keys, values, max_size=6) | st.lists(values, max_size=4)


JSON_EXAMPLES = 25


def test_generated_json_bodies_never_answer_5xx(tenant, acme_objects):
    User = get_user_model()
    walks = []
    for role in ("learner", "instructor"):
        with schema_context(tenant.schema_name):
            user = User.objects.get(email=f"{role}@acme.test")
            walks.append(Walk(_client(host_of(tenant), user), role))
    urls = [urls_for(route, acme_objects)[0] for route in sorted(JSON_ROUTES)]

    @hypothesis_settings(
        max_examples=JSON_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(document=_documents(acme_objects["question_ids"]), deep=st.sampled_from([0, 1, 3, 40, 1200]))
    def post_everywhere(document, deep):
        # Sometimes wrapped far deeper than any endpoint expects (by hand: json.dumps would recurse).
        opening, closing = ("[", "]") if deep % 2 else ('{"answers": ', "}")
        body = opening * deep + json.dumps(document) + closing * deep
        for walk in walks:
            for url in urls:
                walk.send("post", url, data=body, content_type="application/json")

    post_everywhere()
    failures = [f for walk in walks for f in walk.failures]
    assert failures == [], "\n".join(failures)
