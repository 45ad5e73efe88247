"""The edge refuses unreadable input with a 400 before any view; error pages are ours, never Django's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from core.forms import DateRangeForm
from courses.tests.factories import make_course
from tests.fixtures import client_for, host_of

DEBUG_MARKERS = ("URLconf defined", "Django tried these URL patterns", "Traceback", "DEBUG = True")


def _json_client(tenant) -> Client:
    return Client(HTTP_HOST=host_of(tenant), HTTP_ACCEPT="application/json")


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/courses/?q=a%00b", {}),
        ("/courses/?q%00=1", {}),
        ("/certificates/verify/ab%00cd/", {}),
        ("/admin/courses/course/?status=%00", {}),
        ("/courses/", {"HTTP_USER_AGENT": "bad\x00agent"}),
        ("/courses/", {"HTTP_X_ANYTHING": "\ud800"}),
    ],
)
def test_nul_and_lone_surrogates_are_a_branded_400_page(tenant, path, extra):
    response = client_for(tenant, as_role="admin").get(path, **extra)
    assert response.status_code == 400
    page = response.content.decode()
    assert "could not be read" in page and tenant.brand_name in page


def test_json_clients_get_a_problem_body_for_the_same(tenant):
    response = _json_client(tenant).get("/courses/?q=%00")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["title"] and "NUL" in body["detail"]


def test_a_form_field_with_nul_never_reaches_the_view(tenant):
    response = client_for(tenant).post("/accounts/login/", {"username": "a\x00b", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", " 12"])
def test_a_bad_content_length_is_a_400(tenant, length):
    client = client_for(tenant, as_role="learner")
    response = client.post(
        "/analytics/beacon/", data="{}", content_type="application/json", CONTENT_LENGTH=length
    )
    assert response.status_code == 400 and response.json()["status"] == 400


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000 + "]" * 1000,
        '{"answers": ' * 500 + "1" + "}" * 500,
        '{"answers": {"1": {"text": "\\ud800"}}}',
        '{"events": [{"type": "lesson.viewed", "course_id": "\\u0000"}]}',
    ],
)
def test_hostile_json_bodies_are_a_problem_400(tenant, body):
    cache.clear()  # the beacon's per-minute budget may be spent by an earlier test
    client = client_for(tenant, as_role="learner")
    response = client.post("/analytics/beacon/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json" and response.json()["detail"]


def test_an_hls_name_with_an_encoded_backslash_is_a_404(tenant):
    response = client_for(tenant, as_role="admin").get(
        "/media/5b0e7c1e-3f59-4b44-9a4e-1c2e6e4b8a11/hls/..%5c360p.m3u8"
    )
    assert response.status_code == 404


# --- one date range -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"start": "9999-12-31"},
        {"end": "0001-01-01"},
        {"start": "1999-12-31"},
        {"start": "2024-01-02", "end": "2024-01-01"},
        {"start": "2001-01-01", "end": "2024-01-01"},
        {"start": "not-a-date"},
    ],
)
def test_date_range_refuses_what_is_out_of_bounds(query):
    form = DateRangeForm(query)
    assert not form.is_valid() and form.errors


def test_date_range_fills_in_a_missing_end_or_start():
    form = DateRangeForm({"start": "2024-03-01"})
    assert form.is_valid()
    assert (form.cleaned_data["start"], form.cleaned_data["end"]) == (date(2024, 3, 1), date(2024, 3, 30))
    today = timezone.now().date()
    form = DateRangeForm({})
    assert form.is_valid() and form.cleaned_data["end"] == today
    assert form.cleaned_data["start"] == today - timedelta(days=29)
    # The latest allowed start still gives an end within bounds.
    latest = today + timedelta(days=366)
    form = DateRangeForm({"start": latest.isoformat()})
    assert form.is_valid() and form.cleaned_data["end"] == latest


@pytest.fixture
def reported_course(in_tenant):
    return make_course(slug="reported", title="Reported course")


@pytest.mark.parametrize("query", ["start=9999-12-31", "end=0001-01-01"])
def test_dashboards_show_the_message_and_exports_refuse_an_out_of_range_date(tenant, reported_course, query):
    admin = client_for(tenant, as_role="admin")
    for page in ("/analytics/", f"/analytics/courses/{reported_course.pk}/"):
        response = admin.get(f"{page}?{query}")
        assert response.status_code == 200 and "Choose a date between" in response.content.decode()
    for url in (
        f"/analytics/?{query}&export=courses",
        f"/analytics/?{query}&export=active",
        f"/analytics/?{query}&format=json",
        f"/analytics/courses/{reported_course.pk}/?{query}&export=daily",
        f"/analytics/courses/{reported_course.pk}/?{query}&format=json",
    ):
        response = admin.get(url)
        assert response.status_code == 400, url
        assert "Choose a date between" in response.json()["detail"]


# --- error pages ----------------------------------------------------------------------


def test_courses_is_the_catalog(tenant, in_tenant):
    make_course(slug="listed", title="A listed course")
    for client in (client_for(tenant), client_for(tenant, as_role="learner")):
        response = client.get("/courses/")
        assert response.status_code == 200 and "A listed course" in response.content.decode()


@pytest.mark.parametrize("debug", [True, False])
def test_a_404_shows_our_branded_page_and_no_url_patterns(settings, tenant, debug):
    settings.DEBUG = debug  # True: the demo's settings (lms/settings.py with DEBUG unset)
    learner = Client(HTTP_HOST=host_of(tenant))
    with schema_context(tenant.schema_name):
        learner.force_login(User.objects.get(email="learner@acme.test"))
    for client, brand, path in (
        (Client(HTTP_HOST=host_of(tenant)), tenant.brand_name, "/no-such-page/"),
        (learner, tenant.brand_name, "/no-such-page/"),
        (learner, tenant.brand_name, "/courses/no-such-course/"),  # Http404 from a view
        (Client(HTTP_HOST="localhost"), "LMS", "/no-such-page/"),
    ):
        response = client.get(path)
        page = response.content.decode()
        assert response.status_code == 404 and "Page not found" in page and brand in page, path
        assert not any(marker in page for marker in DEBUG_MARKERS), path


@pytest.mark.parametrize("debug", [True, False])
def test_a_failing_view_shows_our_500_page_and_no_traceback(settings, tenant, debug):
    settings.DEBUG = debug
    settings.ROOT_URLCONF = "core.tests.urls_failing"
    client = Client(HTTP_HOST=host_of(tenant), raise_request_exception=False)
    response = client.get("/failing/")
    page = response.content.decode()
    assert response.status_code == 500 and "Something went wrong" in page and tenant.brand_name in page
    assert not any(marker in page for marker in DEBUG_MARKERS) and "a bug in a view" not in page


def test_the_demo_settings_do_not_ask_for_django_debug_pages():
    from lms import settings as lms_settings

    assert lms_settings.DEBUG_TECHNICAL_ERRORS is False
    assert "core.middleware.ErrorPagesMiddleware" in lms_settings.MIDDLEWARE


def test_a_refusal_changes_nothing_and_does_not_sign_in(tenant):
    client = client_for(tenant)
    client.post("/accounts/login/", {"username": "learner@acme.test\x00", "password": "x"})
    assert "_auth_user_id" not in client.session
