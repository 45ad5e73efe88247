"""Celery tasks of media delivery. Tasks take ids and are idempotent."""

from __future__ import annotations

import tempfile
from pathlib import Path

from core.celery import tenant_task
from tenants.context import storage_prefix

from . import storage
from .models import AssetKind, AssetStatus, MediaAsset, TranscodeStatus
from .selectors import asset_ref_forget
from .transcode import CONTENT_TYPES, TranscodeError, hls_ladder


@tenant_task(name="media_delivery.asset_transcode")
def asset_transcode_task(asset_id: str) -> str:
    """Make the HLS ladder, poster and duration of a ready video; a rerun replaces them."""
    asset = MediaAsset.objects.filter(pk=asset_id, kind=AssetKind.VIDEO, status=AssetStatus.READY).first()
    if asset is None:
        return "gone"
    if asset.transcode_status == TranscodeStatus.DONE:
        return "done already"
    hls_prefix = f"{storage_prefix()}media/{asset.pk}/hls/"
    with tempfile.TemporaryDirectory(prefix="transcode-") as work:
        source = Path(work) / ("source" + Path(asset.key).suffix)
        storage.object_download(asset.key, str(source))
        try:
            ladder = hls_ladder(source, Path(work) / "hls")
        except TranscodeError as exc:
            MediaAsset.objects.filter(pk=asset.pk).update(
                transcode_status=TranscodeStatus.FAILED, transcode_error=str(exc)[:500]
            )
            asset_ref_forget(asset.pk)
            return "failed"
        for path in ladder.files:
            storage.object_upload(
                hls_prefix + path.name,
                str(path),
                content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
            )
    MediaAsset.objects.filter(pk=asset.pk).update(
        hls_prefix=hls_prefix,
        poster_key=hls_prefix + "poster.jpg",
        duration_seconds=ladder.probe.duration,
        transcode_status=TranscodeStatus.DONE,
        transcode_error="",
    )
    asset_ref_forget(asset.pk)  # update() sends no signal
    return "done"
