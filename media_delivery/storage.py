"""The only module that talks to S3 (boto3 and django-storages are imported here alone).

Object keys always start with the active tenant's prefix `t/<tenant-uuid>/`, computed
per call: the storage object is shared by the whole process, the tenant is not.
"""

from __future__ import annotations

from functools import lru_cache

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from storages.backends.s3 import S3Storage

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


class TenantS3Storage(S3Storage):
    """django-storages' S3 backend with every key under the active tenant's prefix."""

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
