"""The header's navigation (accounts/templatetags/site_ui.py): right for each person, never another's."""

from __future__ import annotations

import re

from django_tenants.utils import schema_context

from accounts.models import User
from tests.fixtures import client_for


def _nav(response) -> str:
    html = response.content.decode()
    nav = re.search(r'<nav class="site-nav" aria-label="Main">.*?</nav>', html, re.S)
    assert nav is not None, "the page has no main nav"
    return nav.group(0)


def test_a_visitor_sees_sign_in_and_create_account_only_where_allowed(tenant):
    nav = _nav(client_for(tenant).get("/accounts/login/"))
    assert ">Sign in</a>" in nav and "Create account" not in nav and "Sign out" not in nav
    tenant.allow_self_registration = True
    tenant.save(update_fields=["allow_self_registration"])
    try:
        assert "Create account" in _nav(client_for(tenant).get("/accounts/login/"))
    finally:
        tenant.allow_self_registration = False
        tenant.save(update_fields=["allow_self_registration"])


def test_a_learner_sees_their_links_the_current_page_and_a_fresh_token_each_time(tenant):
    client = client_for(tenant, as_role="learner")
    first, second = _nav(client.get("/")), _nav(client.get("/"))
    assert '<a href="/" aria-current="page">Catalog</a>' in first
    assert "My learning</a>" in first and "Administration" not in first and "Grading" not in first
    assert '<span class="who">Learner</span>' in first
    tokens = [
        re.search(r'name="csrfmiddlewaretoken" value="(\w{64})"', nav).group(1) for nav in (first, second)
    ]
    assert tokens[0] != tokens[1]
    learning = _nav(client.get("/learning/"))
    assert '<a href="/learning/" aria-current="page">My learning</a>' in learning
    assert 'aria-current="page">Catalog' not in learning


def test_an_admin_sees_administration_and_grading(tenant):
    nav = _nav(client_for(tenant, as_role="admin").get("/"))
    assert ">Administration</a>" in nav and ">Grading</a>" in nav


def test_two_people_never_get_each_others_header_and_names_are_escaped(tenant, other_tenant):
    with schema_context(tenant.schema_name):
        User.objects.filter(email="learner@acme.test").update(full_name="<b>Ann</b> Acme")
        User.objects.get(email="learner@acme.test").save()  # forget the cached person
    try:
        acme = _nav(client_for(tenant, as_role="learner").get("/"))
        globex = _nav(client_for(other_tenant, as_role="learner").get("/"))
        assert '<span class="who">&lt;b&gt;Ann&lt;/b&gt;</span>' in acme and "<b>" not in acme
        assert '<span class="who">Learner</span>' in globex
    finally:
        with schema_context(tenant.schema_name):
            User.objects.filter(email="learner@acme.test").update(full_name="Learner Acme Corp")
            User.objects.get(email="learner@acme.test").save()
