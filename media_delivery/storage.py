"""The only module that talks to S3 (boto3 and django-storages are imported here alone).

Object keys always start with the active tenant's prefix `t/<tenant-uuid>/`, computed
per call: the storage object is shared by the whole process, the tenant is not.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from storages.backends.s3 import S3Storage

from core.uploads import content_disposition, name_for_bytes, served_type_of_name
from tenants.context import NoTenantActive, current_tenant, storage_prefix


class StorageUnavailable(RuntimeError):
    pass


def _client_config() -> Config:
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        connect_timeout=3,
        read_timeout=10,
        retries={"max_attempts": 2, "mode": "standard"},
    )


@lru_cache(maxsize=1)
def s3_client():
    return boto3.client(
        "s3",
        endpoint_url=settings.S3_ENDPOINT_URL or None,
        aws_access_key_id=settings.S3_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.S3_SECRET_ACCESS_KEY or None,
        region_name=settings.S3_REGION,
        config=_client_config(),
    )


def bucket_check() -> None:
    """Raise StorageUnavailable unless the bucket answers to our credentials."""
    try:
        s3_client().head_bucket(Bucket=settings.S3_BUCKET)
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(
            f"S3 bucket {settings.S3_BUCKET} at {settings.S3_ENDPOINT_URL}: {exc}"
        ) from exc


def bucket_ensure() -> bool:
    """Create the bucket if it is missing. Returns True if it was created."""
    client = s3_client()
    try:
        client.head_bucket(Bucket=settings.S3_BUCKET)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise StorageUnavailable(f"Cannot reach bucket {settings.S3_BUCKET}: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"S3 at {settings.S3_ENDPOINT_URL} does not answer: {exc}") from exc
    client.create_bucket(Bucket=settings.S3_BUCKET)
    return True


SNIFF_BYTES = 512  # enough to tell plain text from binary; the signatures need 16


class TenantS3Storage(S3Storage):
    """django-storages' S3 backend with every key under the active tenant's prefix.

    Every file saved through it (admin file fields, logos, certificates, seeded media) gets
    a name whose extension matches its bytes, and is stored with the Content-Type and
    Content-Disposition that extension maps to; whatever the browser declared is ignored.
    Every URL it signs pins the same two headers (ADR 0060).
    """

    def __init__(self, **overrides):
        options = {
            "bucket_name": settings.S3_BUCKET,
            "endpoint_url": settings.S3_ENDPOINT_URL or None,
            "access_key": settings.S3_ACCESS_KEY_ID or None,
            "secret_key": settings.S3_SECRET_ACCESS_KEY or None,
            "region_name": settings.S3_REGION,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        }
        options.update(overrides)
        super().__init__(**options)

    def _normalize_name(self, name: str) -> str:
        tenant = current_tenant()
        if tenant is None:
            raise NoTenantActive("Media can only be stored or read while a tenant is active.")
        return super()._normalize_name(storage_prefix(tenant) + name.lstrip("/"))

    def save(self, name, content, max_length=None):
        if name is None:
            name = content.name
        if hasattr(content, "seek"):
            content.seek(0)
        head = content.read(SNIFF_BYTES)
        if isinstance(head, str):
            head = head.encode()
        content.seek(0)
        return super().save(name_for_bytes(name, head), content, max_length=max_length)

    def _get_write_parameters(self, name, content=None):
        served = served_type_of_name(name)
        params = super()._get_write_parameters(name, content)
        params.pop("ContentEncoding", None)
        params["ContentType"] = served.content_type
        params["ContentDisposition"] = content_disposition(served, filename=name.rsplit("/", 1)[-1])
        return params

    def url(self, name, parameters=None, expire=None, http_method=None):
        params = dict(parameters or {})
        asked = str(params.get("ResponseContentDisposition", ""))
        params |= response_headers(
            name, filename=name.rsplit("/", 1)[-1], download=asked.startswith("attachment")
        )
        if asked.startswith("attachment"):
            params["ResponseContentDisposition"] = asked  # the caller's file name, still an attachment
        return super().url(name, parameters=params, expire=expire, http_method=http_method)


# --- Raw object operations on full keys (media assets) --------------------------------
#
# Media assets store their full key (`t/<tenant-uuid>/...`), checked against the active
# tenant's prefix here, so no caller can sign, read or delete another tenant's object.


def _own_key(key: str) -> str:
    prefix = storage_prefix()
    if not key.startswith(prefix) or ".." in key.split("/"):
        raise PermissionError(f"Key {key!r} is not under the active tenant's prefix.")
    return key


def response_headers(key: str, *, filename: str = "", download: bool = False) -> dict[str, str]:
    """The response-content-type / -disposition a signed GET of `key` pins: the type its
    extension maps to; inline only for the types safe to show, attachment otherwise."""
    served = served_type_of_name(key)
    return {
        "ResponseContentType": served.content_type,
        "ResponseContentDisposition": content_disposition(served, filename=filename, download=download),
    }


def presigned_get(key: str, *, expires_in: int, filename: str | None = None) -> str:
    """A SigV4 presigned GET of one object of the active tenant, valid `expires_in` seconds.

    The answer's Content-Type and Content-Disposition are pinned (`response_headers`): with
    a file name the object is downloaded under that name.
    """
    params = {"Bucket": settings.S3_BUCKET, "Key": _own_key(key)}
    params |= response_headers(key, filename=filename or key.rsplit("/", 1)[-1], download=bool(filename))
    return s3_client().generate_presigned_url("get_object", Params=params, ExpiresIn=max(1, int(expires_in)))


def presigned_post(
    key: str,
    *,
    content_type: str,
    min_bytes: int,
    max_bytes: int,
    expires_in: int,
    content_disposition: str = "attachment",
) -> dict:
    """A presigned POST (url + form fields) that accepts exactly one object: this key, this
    content type and disposition, and a size within [min_bytes, max_bytes]. S3 itself
    enforces the policy; what arrives is still only an upload, never what is served."""
    return s3_client().generate_presigned_post(
        Bucket=settings.S3_BUCKET,
        Key=_own_key(key),
        Fields={"Content-Type": content_type, "Content-Disposition": content_disposition},
        Conditions=[
            {"Content-Type": content_type},
            {"Content-Disposition": content_disposition},
            ["content-length-range", min_bytes, max_bytes],
        ],
        ExpiresIn=expires_in,
    )


def multipart_start(key: str, *, content_type: str) -> str:
    """Open a multipart upload for the key; returns its upload id."""
    answer = s3_client().create_multipart_upload(
        Bucket=settings.S3_BUCKET,
        Key=_own_key(key),
        ContentType=content_type,
        ContentDisposition="attachment",
    )
    return answer["UploadId"]


def multipart_part_url(key: str, *, upload_id: str, part_number: int, expires_in: int) -> str:
    return s3_client().generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": settings.S3_BUCKET,
            "Key": _own_key(key),
            "UploadId": upload_id,
            "PartNumber": part_number,
        },
        ExpiresIn=expires_in,
    )


def multipart_complete(key: str, *, upload_id: str) -> None:
    """Complete the upload with the parts S3 says it holds (the browser's ETags are not trusted)."""
    client, parts, marker = s3_client(), [], 0
    while True:
        page = client.list_parts(
            Bucket=settings.S3_BUCKET, Key=_own_key(key), UploadId=upload_id, PartNumberMarker=marker
        )
        parts += [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in page.get("Parts", [])]
        if not page.get("IsTruncated"):
            break
        marker = page["NextPartNumberMarker"]
    if not parts:
        raise ObjectMissing("No part of this upload arrived.")
    client.complete_multipart_upload(
        Bucket=settings.S3_BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )


def multipart_abort(key: str, *, upload_id: str) -> None:
    with contextlib.suppress(ClientError):  # already completed or aborted: nothing left to free
        s3_client().abort_multipart_upload(Bucket=settings.S3_BUCKET, Key=_own_key(key), UploadId=upload_id)


class ObjectMissing(LookupError):
    pass


class ObjectChanged(RuntimeError):
    """The object is no longer the version (ETag) that was checked."""


def _raise_missing_or_changed(exc: ClientError, key: str) -> NoReturn:
    code = exc.response.get("Error", {}).get("Code")
    if code in {"404", "NoSuchKey", "NotFound"}:
        raise ObjectMissing(key) from None
    if code in {"412", "PreconditionFailed"}:
        raise ObjectChanged(key) from None
    raise exc


def object_head(key: str) -> dict:
    """Size, content type, disposition and ETag of an object; ObjectMissing when there is none."""
    try:
        answer = s3_client().head_object(Bucket=settings.S3_BUCKET, Key=_own_key(key))
    except ClientError as exc:
        _raise_missing_or_changed(exc, key)
    return {
        "size": answer["ContentLength"],
        "content_type": answer.get("ContentType", ""),
        "content_disposition": answer.get("ContentDisposition", ""),
        "etag": answer.get("ETag", ""),
    }


def object_read(key: str, *, length: int | None = None, if_match: str = "") -> bytes:
    """The object's bytes (the first `length` of them if given); with `if_match`, only if
    the object is still that ETag (ObjectChanged otherwise)."""
    params = {"Bucket": settings.S3_BUCKET, "Key": _own_key(key)}
    if length is not None:
        params["Range"] = f"bytes=0-{max(0, length - 1)}"
    if if_match:
        params["IfMatch"] = if_match
    try:
        return s3_client().get_object(**params)["Body"].read()
    except ClientError as exc:
        _raise_missing_or_changed(exc, key)


def object_copy_verified(
    source: str, target: str, *, etag: str, content_type: str, content_disposition: str
) -> dict:
    """Copy the version `etag` of `source` (ObjectChanged if it is no longer that version) to
    `target`, stored with the server's Content-Type and Content-Disposition; returns the
    target's head. Objects are at most 5 GB, what one CopyObject takes."""
    try:
        s3_client().copy_object(
            Bucket=settings.S3_BUCKET,
            Key=_own_key(target),
            CopySource={"Bucket": settings.S3_BUCKET, "Key": _own_key(source)},
            CopySourceIfMatch=etag,
            MetadataDirective="REPLACE",
            ContentType=content_type,
            ContentDisposition=content_disposition,
        )
    except ClientError as exc:
        _raise_missing_or_changed(exc, source)
    return object_head(target)


def object_download(key: str, path: str) -> None:
    s3_client().download_file(settings.S3_BUCKET, _own_key(key), path)


def object_upload(key: str, path: str, *, content_type: str, cache_control: str = "") -> None:
    served = served_type_of_name(key)
    extra = {"ContentType": content_type, "ContentDisposition": content_disposition(served)}
    if cache_control:
        extra["CacheControl"] = cache_control
    s3_client().upload_file(path, settings.S3_BUCKET, _own_key(key), ExtraArgs=extra)


def object_delete(key: str) -> None:
    s3_client().delete_object(Bucket=settings.S3_BUCKET, Key=_own_key(key))


def objects_delete_prefix(prefix: str) -> int:
    """Delete every object under a prefix of the active tenant; returns how many."""
    client, deleted = s3_client(), 0
    for key in list(object_keys(prefix)):
        client.delete_object(Bucket=settings.S3_BUCKET, Key=key)
        deleted += 1
    return deleted


def object_keys(prefix: str):
    """Every key under a prefix of the active tenant, with no listing outside it."""
    paginator = s3_client().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=settings.S3_BUCKET, Prefix=_own_key(prefix)):
        for item in page.get("Contents", []):
            yield item["Key"]
