"""The media service's own settings, read from ``GONGYI_MEDIA_*`` environment variables.

They sit beside the platform's Settings (which the shared kernel owns) and are read once when
the service container starts; tests set the variables before starting a container.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from services.media.domain.limits import SizeLimits
from services.media.domain.policy import EvidencePolicy


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name)
    return default if value in (None, "") else int(value)


@dataclass(frozen=True)
class MediaConfig:
    policy: EvidencePolicy = field(default_factory=EvidencePolicy)
    unattached_days: int = 30  # evidence never attached to a forwarded application is purged after this
    purge_interval_s: int = 3600
    upload_url_ttl_s: int = 900  # presigned PUT
    download_url_ttl_s: int = 300  # presigned GET
    chunk_size: int = 1024 * 1024  # bytes per read of an upload; 64 KiB made spooling 1 GiB ~1.5 s slower


def load_media_config(environ: dict[str, str] | None = None) -> MediaConfig:
    env = dict(os.environ if environ is None else environ)
    base = SizeLimits()
    limits = SizeLimits(
        image=_int(env, "GONGYI_MEDIA_IMAGE_MAX_BYTES", base.image),
        video=_int(env, "GONGYI_MEDIA_VIDEO_MAX_BYTES", base.video),
        document=_int(env, "GONGYI_MEDIA_DOCUMENT_MAX_BYTES", base.document),
    )
    return MediaConfig(
        policy=EvidencePolicy(limits=limits),
        unattached_days=_int(env, "GONGYI_MEDIA_UNATTACHED_DAYS", 30),
        purge_interval_s=_int(env, "GONGYI_MEDIA_PURGE_INTERVAL_S", 3600),
        upload_url_ttl_s=_int(env, "GONGYI_MEDIA_UPLOAD_URL_TTL_S", 900),
        download_url_ttl_s=_int(env, "GONGYI_MEDIA_DOWNLOAD_URL_TTL_S", 300),
    )
