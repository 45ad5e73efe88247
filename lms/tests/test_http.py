"""Domain refusals reach people one way: a problem body for JSON clients, the refusal page otherwise."""

from __future__ import annotations

import json

from django import forms
from django.test import RequestFactory

from core.errors import Conflict, DomainError, Forbidden, NotFound
from courses.services import CourseError
from lms.http import DomainErrorMiddleware, form_error, wants_json


def _answer(request, error):
    return DomainErrorMiddleware(lambda r: None).process_exception(request, error)


def test_api_path_gets_a_problem_body_with_code_and_field():
    request = RequestFactory().post("/api/v1/courses/", data="{}", content_type="application/json")
    response = _answer(request, DomainError("The title is empty.", code="title_empty", field="title"))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == 400
    assert body["detail"] == "The title is empty."
    assert body["code"] == "title_empty"
    assert body["field"] == "title"
    assert body["type"].endswith("/title_empty")


def test_each_kind_of_refusal_keeps_its_status():
    request = RequestFactory().get("/api/v1/courses/1/")
    assert _answer(request, NotFound("No such course.")).status_code == 404
    assert _answer(request, Forbidden("Unlocks on 3 Dec.")).status_code == 403
    assert _answer(request, Conflict("Changed by Ada a minute ago.")).status_code == 409


def test_app_errors_are_domain_errors():
    assert issubclass(CourseError, DomainError)
    error = CourseError("Fix these.", ["a", "b"], field="title")
    assert error.problems == ["a", "b"] and error.field == "title" and error.status == 400


def test_a_page_gets_the_refusal_page_with_the_sentence(tenant):
    request = RequestFactory().get("/courses/x/", HTTP_ACCEPT="text/html")
    request.tenant = tenant
    response = _answer(request, Forbidden("Complete Lesson 2 first."))
    assert response.status_code == 403
    assert b"Complete Lesson 2 first." in response.content
    assert response["Content-Type"].startswith("text/html")


def test_other_exceptions_pass_through():
    assert _answer(RequestFactory().get("/"), ValueError("x")) is None


def test_json_is_chosen_by_path_body_or_accept():
    factory = RequestFactory()
    assert wants_json(factory.get("/api/v1/"))
    assert wants_json(factory.get("/x/", HTTP_ACCEPT="application/json"))
    assert not wants_json(factory.get("/x/", HTTP_ACCEPT="text/html,application/json"))
    assert not wants_json(factory.get("/x/"))


def test_form_error_lands_on_the_named_field_or_the_form():
    class TitleForm(forms.Form):
        title = forms.CharField()

    form = TitleForm(data={"title": "x"})
    form.is_valid()
    form_error(form, DomainError("Taken.", field="title"))
    form_error(form, DomainError("General.", field="nope"))
    assert form.errors["title"] == ["Taken."]
    assert form.non_field_errors() == ["General."]
