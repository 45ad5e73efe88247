"""Keep media assets in step with writes elsewhere, without those apps importing this one."""

from __future__ import annotations

import logging

from django.db.models.signals import post_delete, post_save

from courses.models import Lesson
from tenants.context import current_tenant, storage_prefix

from .models import MediaAsset
from .selectors import asset_ref_forget

log = logging.getLogger(__name__)


def _asset_written(sender, instance, **_) -> None:
    asset_ref_forget(instance.pk)


def _lesson_saved(sender, instance: Lesson, raw=False, **_) -> None:
    """A file stored through the lesson form (not the direct upload) gets its asset too, so the
    page serves it through /media/<id>/ and a video is transcoded."""
    if raw or current_tenant() is None:
        return
    from .services import asset_adopt

    for kind, name in (("video", instance.video.name), ("document", instance.document.name)):
        if not name:
            continue
        key = storage_prefix() + name
        if MediaAsset.objects.filter(key=key).exists():
            continue
        try:
            asset_adopt(actor=None, key=key, kind=kind, lesson=instance, filename=name.rsplit("/", 1)[-1])
        except Exception:  # S3 down: the lesson is saved anyway and shows the file the old way
            log.exception("media asset for lesson %s (%s) not registered", instance.pk, key)


def connect() -> None:
    post_save.connect(_asset_written, sender=MediaAsset, dispatch_uid="media_asset_ref_forget_save")
    post_delete.connect(_asset_written, sender=MediaAsset, dispatch_uid="media_asset_ref_forget_delete")
    post_save.connect(_lesson_saved, sender=Lesson, dispatch_uid="media_lesson_file_adopt")
