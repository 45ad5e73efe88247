"""Media endpoints of a tenant site: the access-checked redirect, HLS playlists, the upload API.

Every answer that carries or leads to a signed URL is `Cache-Control: private, no-store`:
the signature was issued to this person after the policy said yes, and no shared cache
may hand it to someone else.
"""

from __future__ import annotations

import re
import time
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.errors import Forbidden
from core.http import json_body

from . import storage
from .access import access_asset, access_lesson_for_upload, access_upload, may_upload
from .delivery import hls_cookies, rewrite_playlist, signed_object_url
from .models import AssetKind
from .services import (
    KIND_RULES,
    UploadAlreadyFinished,
    UploadRefused,
    upload_abort,
    upload_finish,
    upload_part_urls,
    upload_start,
)
from .signing import cloudfront_configured

NO_STORE = "private, no-store"
MAX_API_BODY_BYTES = 4096
PLAYLIST_CACHE_SECONDS = 3600


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = NO_STORE
    return response


def _redirect(url: str) -> HttpResponse:
    return _no_store(HttpResponseRedirect(url))


@require_GET
def media_redirect(request: HttpRequest, asset_id) -> HttpResponse:
    """302 to a signed URL of the asset's file, if the access policy lets this person see it."""
    asset = access_asset(user=request.user, asset_id=asset_id)
    filename = asset.filename if request.GET.get("download") else None
    return _redirect(signed_object_url(asset.key, filename=filename))


@require_GET
def media_poster(request: HttpRequest, asset_id) -> HttpResponse:
    asset = access_asset(user=request.user, asset_id=asset_id)
    if not asset.poster_key:
        raise Http404("This video has no poster yet.")
    return _redirect(signed_object_url(asset.poster_key))


@require_GET
def media_hls(request: HttpRequest, asset_id, name: str) -> HttpResponse:
    """An HLS playlist of the asset.

    With CloudFront: set signed cookies scoped to the asset's HLS folder, then redirect to
    the playlist there. Without: serve the playlist from here with every segment presigned.
    """
    asset = access_asset(user=request.user, asset_id=asset_id)
    # A playlist of the asset's own folder: no separator of any kind (an encoded backslash neither).
    if not asset.has_hls or not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}\.m3u8", name):
        raise Http404("No such playlist.")
    if cloudfront_configured():
        cookies, path, expires = hls_cookies(asset.hls_prefix)
        response = _redirect(f"https://{settings.CLOUDFRONT_DOMAIN}{path}{name}")
        for cookie, value in cookies.items():
            response.set_cookie(
                cookie,
                value,
                max_age=max(1, int(expires - time.time())),
                path=path,
                domain=settings.CLOUDFRONT_COOKIE_DOMAIN or None,
                secure=True,
                httponly=True,
                samesite="None",
            )
        return response
    cache_key = f"media:playlist:{asset.pk}:{name}"
    text = cache.get(cache_key)
    if text is None:
        try:
            text = storage.object_read(asset.hls_prefix + name).decode()
        except storage.ObjectMissing:
            raise Http404("No such playlist.") from None
        cache.set(cache_key, text, PLAYLIST_CACHE_SECONDS)
    base = reverse("media:hls", kwargs={"asset_id": asset.pk, "name": "x.m3u8"})[: -len("x.m3u8")]
    try:
        body = rewrite_playlist(
            text,
            sign=lambda segment: signed_object_url(asset.hls_prefix + segment),
            rename=lambda n: base + n,
        )
    except ValueError:
        raise Http404("No such playlist.") from None
    return _no_store(HttpResponse(body, content_type="application/vnd.apple.mpegurl"))


# --- The upload API (JSON) -------------------------------------------------------------------


def _error(message: str, status: int = 400) -> JsonResponse:
    return _no_store(JsonResponse({"error": message}, status=status))


def _body(request: HttpRequest) -> dict | None:
    if len(request.body) > MAX_API_BODY_BYTES:
        return None
    data = json_body(request, max_bytes=MAX_API_BODY_BYTES, empty={})
    return data if isinstance(data, dict) else None


def _json_404(view):
    """API views answer JSON, a missing or foreign upload included."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Http404 as exc:
            return _error(str(exc) or "Not found.", 404)

    return wrapper


@require_POST
def upload_start_view(request: HttpRequest) -> JsonResponse:
    """{"kind", "filename", "content_type", "size", "lesson"?} -> the ticket (presigned POST or multipart)."""
    if not may_upload(request.user):
        return _error("Only instructors and admins can upload media.", 403)
    data = _body(request)
    if data is None:
        return _error("The body must be a small JSON object.")
    lesson = None
    if data.get("lesson") is not None:
        lesson_id = data["lesson"]
        if not isinstance(lesson_id, int) or isinstance(lesson_id, bool):
            return _error("'lesson' must be a lesson id.")
        try:
            lesson = access_lesson_for_upload(user=request.user, lesson_id=lesson_id)
        except Http404:
            return _error("No such lesson.", 404)
        except Forbidden as exc:
            return _error(exc.message, exc.status)
    if data.get("kind") == AssetKind.SUBMISSION:
        return _error("Assignment files are uploaded from the assignment's page.")
    size = data.get("size")
    try:
        ticket = upload_start(
            actor=request.user,
            kind=str(data.get("kind", "")),
            filename=str(data.get("filename", ""))[:255],
            content_type=str(data.get("content_type", "")),
            size=size if isinstance(size, int) and not isinstance(size, bool) else -1,
            lesson=lesson,
        )
    except UploadRefused as exc:
        return _error(str(exc))
    return _no_store(JsonResponse(ticket.as_json(), status=201))


@require_POST
@_json_404
def upload_parts_view(request: HttpRequest, asset_id) -> JsonResponse:
    """{"parts": [1, 2, ...]} -> {"urls": {"1": "...", ...}} for a multipart upload."""
    asset = _uploader_asset(request, asset_id)
    data = _body(request)
    if data is None or not isinstance(data.get("parts"), list):
        return _error('Send {"parts": [part numbers]}.')
    try:
        urls = upload_part_urls(asset=asset, part_numbers=data["parts"])
    except UploadRefused as exc:
        return _error(str(exc))
    return _no_store(JsonResponse({"urls": {str(n): url for n, url in urls.items()}}))


def _uploader_asset(request: HttpRequest, asset_id):
    if not may_upload(request.user):
        raise Http404("No such upload.")
    return access_upload(user=request.user, asset_id=asset_id)


def _asset_json(asset) -> dict:
    return {
        "asset": str(asset.pk),
        "status": asset.status,
        "reason": asset.reason,
        "size": asset.size,
        "url": reverse("media:file", kwargs={"asset_id": asset.pk}) if asset.is_ready else None,
    }


@require_POST
@_json_404
def upload_finish_view(request: HttpRequest, asset_id) -> JsonResponse:
    """Verify the object that arrived: 200 ready, 422 with the reason it was rejected, or 409
    when this upload was finished before (a grant is used once)."""
    try:
        asset = upload_finish(actor=request.user, asset=_uploader_asset(request, asset_id))
    except UploadAlreadyFinished as exc:
        return _error(str(exc), 409)
    return _no_store(JsonResponse(_asset_json(asset), status=200 if asset.is_ready else 422))


@require_POST
@_json_404
def upload_abort_view(request: HttpRequest, asset_id) -> JsonResponse:
    asset = upload_abort(actor=request.user, asset=_uploader_asset(request, asset_id))
    return _no_store(JsonResponse(_asset_json(asset)))


@login_required
def upload_page(request: HttpRequest) -> HttpResponse:
    """Upload a lesson's video or PDF from the browser straight to storage."""
    if not may_upload(request.user):
        raise Http404("No such page.")
    lesson = None
    raw = request.GET.get("lesson", "")
    if raw:
        if not raw.isdigit():
            raise Http404("No such lesson.")
        lesson = access_lesson_for_upload(user=request.user, lesson_id=int(raw))
    assets = lesson.media_assets.order_by("-created_at")[:20] if lesson else []
    limits = {kind: rule.max_bytes for kind, rule in KIND_RULES.items()}
    accept = {kind: ",".join(rule.types) for kind, rule in KIND_RULES.items()}
    return render(
        request,
        "media_delivery/upload.html",
        {"lesson": lesson, "assets": assets, "limits": limits, "accept": accept},
    )
