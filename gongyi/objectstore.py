"""The MinIO (S3) client used by the service that owns evidence objects."""

from __future__ import annotations

from urllib.parse import urlparse

from minio import Minio

from gongyi.config import Settings


def make_object_client(settings: Settings) -> Minio:
    url = urlparse(settings.s3_endpoint)
    return Minio(
        url.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        region=settings.s3_region,
        secure=url.scheme == "https",
    )


def ensure_buckets(client: Minio, *buckets: str) -> None:
    for bucket in buckets:
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
