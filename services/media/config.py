"""The media service's own settings, read from ``GONGYI_MEDIA_*`` environment variables.

They sit beside the platform's Settings (which the shared kernel owns) and are read once when
the service container starts; tests set the variables before starting a container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic_settings import BaseSettings, SettingsConfigDict

from gongyi.config import GivenEnviron, settings_from
from services.media.domain.limits import SizeLimits
from services.media.domain.policy import EvidencePolicy


@dataclass(frozen=True)
class MediaConfig:
    policy: EvidencePolicy = field(default_factory=EvidencePolicy)
    unattached_days: int = 30  # evidence never attached to a forwarded application is purged after this
    purge_interval_s: int = 3600
    upload_url_ttl_s: int = 900  # presigned PUT
    download_url_ttl_s: int = 300  # presigned GET
    chunk_size: int = 1024 * 1024  # bytes per read of an upload; 64 KiB made spooling 1 GiB ~1.5 s slower


class MediaEnv(GivenEnviron, BaseSettings):
    """``GONGYI_MEDIA_<FIELD>``; each default is MediaConfig's or SizeLimits' own."""

    model_config = SettingsConfigDict(env_prefix="GONGYI_MEDIA_", env_ignore_empty=True, frozen=True, extra="ignore")

    image_max_bytes: int = SizeLimits().image
    video_max_bytes: int = SizeLimits().video
    document_max_bytes: int = SizeLimits().document
    unattached_days: int = MediaConfig.unattached_days
    purge_interval_s: int = MediaConfig.purge_interval_s
    upload_url_ttl_s: int = MediaConfig.upload_url_ttl_s
    download_url_ttl_s: int = MediaConfig.download_url_ttl_s


def load_media_config(environ: Mapping[str, str] | None = None) -> MediaConfig:
    env = settings_from(MediaEnv, environ)
    limits = SizeLimits(image=env.image_max_bytes, video=env.video_max_bytes, document=env.document_max_bytes)
    return MediaConfig(
        policy=EvidencePolicy(limits=limits),
        unattached_days=env.unattached_days,
        purge_interval_s=env.purge_interval_s,
        upload_url_ttl_s=env.upload_url_ttl_s,
        download_url_ttl_s=env.download_url_ttl_s,
    )
