"""Evidence objects in MinIO (S3): the quarantine bucket for unchecked bytes, the evidence bucket
for checked ones keyed by content hash. Object names are always generated here, never taken
from user input.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error

from services.media.domain.fingerprints import evidence_object_key

PART_SIZE = 5 * 1024 * 1024  # multipart part; minio keeps at most PARALLEL parts in memory
PARALLEL = 2
_MISSING = ("NoSuchKey", "NoSuchObject", "ResourceNotFound", "NotFound")


class EvidenceObjects:
    def __init__(self, client: Minio, quarantine_bucket: str, evidence_bucket: str) -> None:
        self.client = client
        self.quarantine = quarantine_bucket
        self.evidence = evidence_bucket

    @staticmethod
    def new_quarantine_key(prefix: str = "incoming") -> str:
        return f"{prefix}/{uuid.uuid4().hex}"

    def put_checked(self, path: str, size: int, sha256: str, content_type: str) -> tuple[str, bool]:
        """Store bytes already checked (a local spool file) under their hash; (key, newly stored).

        Straight into the evidence bucket: a put becomes visible only once complete (multipart
        included), so no unchecked or partial object can appear there, and skipping the quarantine
        hop saves the object store a full server-side copy of the file.
        """
        key = evidence_object_key(sha256)
        if self.evidence_exists(sha256):
            return key, False  # the same bytes are stored once
        with open(path, "rb") as handle:
            self.client.put_object(
                self.evidence, key, handle, size, content_type=content_type,
                part_size=PART_SIZE, num_parallel_uploads=PARALLEL,
            )
        return key, True

    def quarantine_size(self, key: str) -> int | None:
        return self._size(self.quarantine, key)

    def evidence_exists(self, sha256: str) -> bool:
        return self._size(self.evidence, evidence_object_key(sha256)) is not None

    def _size(self, bucket: str, key: str) -> int | None:
        try:
            return int(self.client.stat_object(bucket, key).size or 0)
        except S3Error as exc:
            if exc.code in _MISSING:
                return None
            raise

    def stream_quarantine(self, key: str, chunk_size: int) -> Iterator[bytes]:
        """The quarantined object in bounded chunks (never read whole)."""
        response = self.client.get_object(self.quarantine, key)
        try:
            yield from response.stream(chunk_size)
        finally:
            response.close()
            response.release_conn()

    def promote(self, quarantine_key: str, sha256: str) -> tuple[str, bool]:
        """Move a checked object into the evidence bucket under its hash; (key, newly stored).

        The same content is stored once: if the key exists, the quarantine copy is just dropped.
        minio's ``copy_object`` turns into a multipart copy (``compose_object``) past S3's 5 GiB
        CopyObject limit, so raised size limits keep working.
        """
        key = evidence_object_key(sha256)
        created = False
        if not self.evidence_exists(sha256):
            self.client.copy_object(self.evidence, key, CopySource(self.quarantine, quarantine_key))
            created = True
        self.remove_quarantine(quarantine_key)
        return key, created

    def remove_quarantine(self, key: str) -> None:
        self._remove(self.quarantine, key)

    def remove_evidence(self, key: str) -> None:
        self._remove(self.evidence, key)

    def _remove(self, bucket: str, key: str) -> None:
        try:
            self.client.remove_object(bucket, key)
        except S3Error as exc:
            if exc.code not in _MISSING:
                raise

    def upload_url(self, key: str, ttl_s: int) -> str:
        return self.client.presigned_put_object(self.quarantine, key, expires=timedelta(seconds=ttl_s))

    def download_url(self, key: str, ttl_s: int, content_type: str, filename: str) -> str:
        headers: dict[str, Any] = {
            "response-content-type": content_type,
            "response-content-disposition": content_disposition(filename),
        }
        return self.client.presigned_get_object(
            self.evidence, key, expires=timedelta(seconds=ttl_s), response_headers=headers
        )


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
