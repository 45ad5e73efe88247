"""Who is signed in, resolved once per request instead of on every attribute read."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware

from .sessions import SESSION_KEY_SHAPE


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, except that a request with a session cookie gets the user itself, not a proxy.

    Django sets `request.user` to a lazy object, so that a request which never asks costs no
    session read. Behind it, every attribute read (`request.user.pk`, `is_authenticated`,
    each template lookup) goes through LazyObject.__getattribute__, which raises and catches
    an AttributeError per read: about 150 reads on a lesson page. A request that carries a
    session cookie asks for its user on every page we serve (the header shows who is signed
    in), and its session and user were already read with the routing token (ADR 0190), so
    resolving it here costs nothing extra. Requests without one stay lazy (and anonymous).
    """

    def process_request(self, request):
        super().process_request(request)
        if SESSION_KEY_SHAPE.fullmatch(request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")):
            request.user = auth_middleware.get_user(request)
