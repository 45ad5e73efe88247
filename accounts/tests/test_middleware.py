"""request.user is the user itself, read on first use, not a lazy proxy (accounts.middleware)."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import LazyObject

from accounts.models import User
from tests.fixtures import client_for


def test_a_signed_in_request_has_the_user_itself(tenant):
    client = client_for(tenant, as_role="learner")
    response = client.get("/")
    user = response.wsgi_request.user
    assert not isinstance(user, LazyObject)
    assert isinstance(user, User) and user.email == "learner@acme.test"


def test_a_request_without_a_session_is_anonymous(tenant):
    client = client_for(tenant)
    response = client.get("/")
    assert not isinstance(response.wsgi_request.user, LazyObject)
    assert not response.wsgi_request.user.is_authenticated


def test_a_view_that_never_reads_the_user_does_not_resolve_it(tenant):
    """Still lazy: the session is not read for a view that does not ask who is signed in."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from accounts.middleware import AuthenticationMiddleware
    from accounts.sessions import SessionStore

    request = RequestFactory().get("/")
    request.session = SessionStore()
    AuthenticationMiddleware(lambda r: HttpResponse(b"ok")).process_request(request)
    assert "user" not in request.__dict__ and not request.session.accessed
    assert not request.user.is_authenticated  # the first read resolves it
    assert "user" in request.__dict__ and request.session.accessed


def test_a_stale_session_cookie_is_anonymous(tenant):
    client = client_for(tenant)
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32  # the shape of a key, no such session
    response = client.get("/")
    assert not response.wsgi_request.user.is_authenticated
    assert b"Sign in" in response.content


def test_signing_out_leaves_the_request_anonymous(tenant):
    client = client_for(tenant, as_role="learner")
    client.get("/")
    response = client.post("/accounts/logout/")
    assert response.status_code in (200, 302)
    assert not response.wsgi_request.user.is_authenticated
    assert not client.get("/").wsgi_request.user.is_authenticated
