"""The site header's navigation, built once per distinct set of inputs in each process.

Every page renders the header, and its template form (a dozen variables and conditions)
cost about 0.14 ms of each page when measured, more than the rest of the header. Its HTML
is a pure function of a few values: the URL configuration and script prefix (for the links),
whether someone is signed in, whether they may use the admin, their short name, the page's
view name (for aria-current) and the tenant's self-registration setting. So the HTML is
kept per tuple of exactly those values (bounded, PROCESS_CACHE_MAX["site_nav"]), and only
the CSRF token of the sign-out form, which is new on every page, is put in per request.
Sharing an answer between two people or tenants with the same inputs is safe: the
output holds nothing else.
"""

from __future__ import annotations

from django import template
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.permissions import may_use_admin
from core.local_cache import LocalLRU
from core.urls import reverse_memo

register = template.Library()

_built = LocalLRU("site_nav", 4096)


def _current(here: str, view_name: str) -> str:
    return ' aria-current="page"' if here == view_name else ""


def _build(
    signed_in: bool, admin: bool, short_name: str, here: str, self_registration: bool
) -> tuple[str, str]:
    """The nav's HTML before and after the CSRF token of the sign-out form."""
    if not signed_in:
        signup = (
            format_html(
                '<a class="button small" href="{}">Create account</a>', reverse_memo("accounts:signup")
            )
            if self_registration
            else ""
        )
        html = format_html(
            '<nav class="site-nav" aria-label="Main"><a href="{}">Sign in</a>{}</nav>',
            reverse_memo("accounts:login"),
            signup,
        )
        return str(html), ""
    staff_links = ""
    if admin:
        staff_links = format_html(
            '<a href="{}">Administration</a><a href="{}">Grading</a>',
            reverse_memo("admin:index"),
            reverse_memo("assessments:queue"),
        )
    before = format_html(
        '<nav class="site-nav" aria-label="Main">'
        '<a href="{}"{}>Catalog</a><a href="{}"{}>My learning</a>{}'
        '<span class="who">{}</span><form method="post" action="{}" class="inline">',
        reverse_memo("home"),
        mark_safe(_current(here, "home")),  # noqa: S308 - a constant attribute or nothing
        reverse_memo("enrollments:my_learning"),
        mark_safe(_current(here, "enrollments:my_learning")),  # noqa: S308 - as above
        staff_links,
        short_name,
        reverse_memo("accounts:logout"),
    )
    after = '<button type="submit" class="link-button">Sign out</button></form></nav>'
    return str(before), after


@register.simple_tag(takes_context=True)
def site_nav(context) -> SafeString:
    """The header's <nav> for the person in the context (nothing on the operator site)."""
    user = context.get("user")
    request = context.get("request")
    tenant = context.get("current_tenant")
    signed_in = bool(user is not None and user.is_authenticated)
    match = getattr(request, "resolver_match", None)
    key = (
        get_urlconf(),
        get_script_prefix(),
        signed_in,
        bool(signed_in and may_use_admin(user)),
        user.get_short_name() if signed_in else "",
        match.view_name if match is not None else "",
        bool(getattr(tenant, "allow_self_registration", False)),
    )
    parts = _built.get(key)
    if parts is None:
        parts = _build(*key[2:])
        _built.put(key, parts)
    before, after = parts
    if not after:
        return mark_safe(before)  # noqa: S308 - built with format_html above
    token = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', str(context.get("csrf_token", ""))
    )
    return mark_safe(before + token + after)  # noqa: S308 - every part escaped above
