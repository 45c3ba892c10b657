"""Configuration from environment variables (the README has the table).

Defaults give the embedded mode: in-memory broker, SQLite files under ./var, local S3 and search
servers started by `gongyi run`. Server mode (GONGYI_MODE=server) refuses the dev JWT secret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import gongyi.events.memory_broker  # noqa: F401 - memory:// carries AMQP's message properties

SERVICES = ("intake", "media", "review", "publish")
DEV_JWT_SECRET = "dev-only-insecure-secret-change-me"


class ConfigError(RuntimeError):
    pass


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


@dataclass(frozen=True)
class Settings:
    mode: str = "embedded"
    data_dir: str = "./var"
    amqp_uri: str = "memory://localhost/"
    rabbitmq_management_url: str = ""
    db_urls: dict[str, str] = field(default_factory=dict)
    search_url: str = ""
    search_index_prefix: str = "gongyi"
    s3_endpoint: str = ""
    s3_access_key: str = "gongyi"
    s3_secret_key: str = "gongyi-secret"
    s3_region: str = "us-east-1"
    s3_quarantine_bucket: str = "gongyi-quarantine"
    s3_evidence_bucket: str = "gongyi-evidence"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_key_id: str = "dev"
    jwt_issuer: str = "gongyi"
    jwt_audience: str = "gongyi-api"
    jwt_ttl_seconds: int = 8 * 3600
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # embedded mode's local search and S3 servers; 0 = any free port
    search_port: int = 0
    s3_port: int = 0
    dead_letter_after: int = 5
    outbox_batch: int = 200
    log_level: str = "INFO"
    calls: tuple[str, ...] = ()

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    def db_url(self, service: str) -> str:
        return self.db_urls[service]

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def check(self) -> None:
        """Refuse settings that are unsafe outside the embedded mode."""
        if self.mode not in ("embedded", "server"):
            raise ConfigError(f"GONGYI_MODE must be 'embedded' or 'server', not {self.mode!r}")
        if not self.embedded:
            if self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < 32:
                raise ConfigError(
                    "GONGYI_JWT_SECRET is the dev secret or shorter than 32 characters; "
                    "set a real secret in server mode"
                )
            if self.amqp_uri.startswith("memory://localhost/"):
                raise ConfigError("GONGYI_AMQP_URI must point at RabbitMQ in server mode")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        value = env.get(name)
        return default if value is None or value == "" else value

    data_dir = get("GONGYI_DATA_DIR", "./var")
    db_urls = {
        s: get(f"GONGYI_{s.upper()}_DB_URL", f"sqlite:///{Path(data_dir).resolve() / (s + '.db')}") for s in SERVICES
    }
    calls = tuple(p for p in get("GONGYI_CALLS", "").split(",") if p)
    return Settings(
        mode=get("GONGYI_MODE", "embedded"),
        data_dir=data_dir,
        amqp_uri=get("GONGYI_AMQP_URI", "memory://localhost/"),
        rabbitmq_management_url=get("GONGYI_RABBITMQ_MANAGEMENT_URL", ""),
        db_urls=db_urls,
        search_url=get("GONGYI_SEARCH_URL", ""),
        search_index_prefix=get("GONGYI_SEARCH_INDEX_PREFIX", "gongyi"),
        s3_endpoint=get("GONGYI_S3_ENDPOINT", ""),
        s3_access_key=get("GONGYI_S3_ACCESS_KEY", "gongyi"),
        s3_secret_key=get("GONGYI_S3_SECRET_KEY", "gongyi-secret"),
        s3_region=get("GONGYI_S3_REGION", "us-east-1"),
        s3_quarantine_bucket=get("GONGYI_S3_QUARANTINE_BUCKET", "gongyi-quarantine"),
        s3_evidence_bucket=get("GONGYI_S3_EVIDENCE_BUCKET", "gongyi-evidence"),
        jwt_secret=get("GONGYI_JWT_SECRET", DEV_JWT_SECRET),
        jwt_key_id=get("GONGYI_JWT_KEY_ID", "dev"),
        jwt_issuer=get("GONGYI_JWT_ISSUER", "gongyi"),
        jwt_audience=get("GONGYI_JWT_AUDIENCE", "gongyi-api"),
        jwt_ttl_seconds=int(get("GONGYI_JWT_TTL_SECONDS", str(8 * 3600))),
        http_host=get("GONGYI_HTTP_HOST", "127.0.0.1"),
        http_port=int(get("GONGYI_HTTP_PORT", "8000")),
        search_port=int(get("GONGYI_SEARCH_PORT", "0")),
        s3_port=int(get("GONGYI_S3_PORT", "0")),
        dead_letter_after=int(get("GONGYI_DEAD_LETTER_AFTER", "5")),
        outbox_batch=int(get("GONGYI_OUTBOX_BATCH", "200")),
        log_level=get("GONGYI_LOG_LEVEL", "INFO"),
        calls=calls,
    )


def nameko_config(settings: Settings, service: str, web_address: str) -> dict:
    """The nameko container config for one service; our own settings ride along under GONGYI."""
    return {
        "AMQP_URI": settings.amqp_uri,
        "WEB_SERVER_ADDRESS": web_address,
        "serializer": "json",
        "ACCEPT": ["json", "cloudevents"],
        "SERIALIZERS": {
            "cloudevents": {
                "encoder": "gongyi.events.envelope.encode",
                "decoder": "gongyi.events.envelope.decode",
                "content_type": "application/cloudevents+json",
                "content_encoding": "utf-8",
            }
        },
        # the in-memory transport polls; 1 s default makes the embedded mode feel stuck
        "TRANSPORT_OPTIONS": {"polling_interval": 0.05} if settings.amqp_uri.startswith("memory") else {},
        "PREFETCH_COUNT": 20,
        "max_workers": 20,
        "GONGYI": settings,
        "GONGYI_SERVICE": service,
    }
