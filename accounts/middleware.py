"""Who is signed in: read on first use, then a plain attribute of the request."""

from __future__ import annotations

from django.contrib.auth import middleware as auth_middleware


class _UserOnFirstRead:
    """`request.user` as a non-data descriptor: the first read resolves the user (session, then
    cache or database) and stores it in the request's own __dict__, which every later read
    finds before the descriptor. Setting `request.user` (login, logout) just replaces it."""

    def __get__(self, request, owner=None):
        if request is None:
            return self
        user = auth_middleware.get_user(request)
        request.__dict__["user"] = user
        return user


_with_user: dict[type, type] = {}


def _class_with_user(cls: type) -> type:
    """`cls` (WSGIRequest, or the test client's) with the descriptor; one subclass per class."""
    sub = _with_user.get(cls)
    if sub is None:
        sub = type(cls.__name__, (cls,), {"user": _UserOnFirstRead(), "__module__": cls.__module__})
        _with_user[cls] = sub
    return sub


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, without the lazy proxy in front of the user.

    Django sets `request.user` to a SimpleLazyObject, so that a request which never asks
    costs no session read. Behind it, every attribute read (`request.user.pk`,
    `is_authenticated`, each template lookup) goes through LazyObject.__getattribute__, which
    raises and catches an AttributeError per read: about 50 reads on a lesson page. Here the
    request's class gets a descriptor instead: as lazy (a view that never reads the user
    pays nothing), and after the first read the user is a plain attribute.
    """

    def process_request(self, request):
        super().process_request(request)  # checks the session middleware; sets request.auser
        del request.__dict__["user"]
        request.__class__ = _class_with_user(type(request))
