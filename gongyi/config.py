"""Configuration from environment variables (the README has the table).

Defaults give the embedded mode: in-memory broker, SQLite files under ./var, local S3 and search
servers started by `gongyi run`. Server mode (GONGYI_MODE=server) refuses the dev JWT secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

import gongyi.events.memory_broker  # noqa: F401 - memory:// carries AMQP's message properties

SERVICES = ("intake", "media", "review", "publish")
# the browser console (services/console): a backend-for-frontend over the four services' APIs, with
# its own database (accounts, sessions, notifications) and no JSON API of its own
CONSOLE = "console"
DATABASES = (*SERVICES, CONSOLE)
DEV_JWT_SECRET = "dev-only-insecure-secret-change-me"

S = TypeVar("S", bound=BaseSettings)
# settings_from(cls, environ) reads this mapping instead of os.environ (tests, the CLI's checks)
_GIVEN_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("gongyi_environ", default=None)


class ConfigError(RuntimeError):
    pass


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class GivenEnviron:
    """Mixin for BaseSettings classes: ``settings_from(cls, environ)`` reads ``environ`` alone."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        given = _GIVEN_ENVIRON.get()
        return (init_settings, env_settings if given is None else _MappingEnvSource(settings_cls, given))


def settings_from(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    """``cls()`` from the process environment, or from ``environ`` alone when it is given."""
    if environ is None:
        return cls()
    token = _GIVEN_ENVIRON.set(environ)
    try:
        return cls()
    finally:
        _GIVEN_ENVIRON.reset(token)


class Settings(GivenEnviron, BaseSettings):
    """Every field is read from ``GONGYI_<FIELD>``; an empty variable counts as unset."""

    model_config = SettingsConfigDict(env_prefix="GONGYI_", env_ignore_empty=True, frozen=True, extra="ignore")

    mode: str = "embedded"
    data_dir: str = "./var"
    amqp_uri: str = "memory://localhost/"
    rabbitmq_management_url: str = ""
    # GONGYI_<SERVICE>_DB_URL; unset: a SQLite file per service under data_dir (see db_urls)
    intake_db_url: str = ""
    media_db_url: str = ""
    review_db_url: str = ""
    publish_db_url: str = ""
    console_db_url: str = ""
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
    # keys still accepted during a rotation: "kid:secret,kid:secret"
    jwt_previous: str = ""
    jwt_issuer: str = "gongyi"
    jwt_audience: str = "gongyi-api"
    jwt_ttl_seconds: int = 8 * 3600
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # embedded mode's local search and S3 servers; 0 = any free port
    search_port: int = 0
    s3_port: int = 0
    # embedded mode's local search and S3 servers; 0 = any free port
    search_port: int = 0
    s3_port: int = 0
    dead_letter_after: int = 5
    outbox_batch: int = 200
    log_level: str = "INFO"
    # comma-separated call files loaded at start
    calls: Annotated[tuple[str, ...], NoDecode] = ()
    # the public site's origin, for absolute links in pages, feeds and exports (publish)
    public_base_url: str = "https://gongyi.example.org"
    # "<requests>/<seconds>" per client for the public objection form (publish)
    publish_objection_rate: str = "5/3600"
    # peers whose X-Forwarded-For / Forwarded the services believe (comma-separated addresses or
    # CIDRs): the router (loopback) in the embedded mode, the ingress's addresses in a cluster
    trusted_proxies: str = "127.0.0.0/8,::1/128"
    # seconds intake waits for media's evidence check
    intake_evidence_timeout_s: float = 5.0
    # how often review and publish look for deadlines to remind of (days apart: a minute is plenty;
    # read when the service module is imported, as nameko timers are declared on the class)
    reminder_interval_s: float = 60.0
    # the platform's base URL through which the console calls the services' APIs; empty: `gongyi run`
    # sets the router's bound address (GONGYI_HTTP_PORT=0 included), else http://127.0.0.1:<http_port>
    api_base_url: str = ""
    # where the console's e-mail goes (smtp://host:port); empty in `gongyi run`: a local sink into <data_dir>/mail
    smtp_url: str = ""
    mail_from: str = "noreply@gongyi.example.org"

    @field_validator("calls", mode="before")
    @classmethod
    def _split_calls(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p for p in value.split(",") if p)
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_db_urls(cls, data: Any) -> Any:
        # resolved once, at load time, against the directory the process started in
        if isinstance(data, dict):
            data_dir = Path(data.get("data_dir") or "./var").resolve()
            for service in DATABASES:
                data.setdefault(f"{service}_db_url", "")
                if not data[f"{service}_db_url"]:
                    data[f"{service}_db_url"] = f"sqlite:///{data_dir / (service + '.db')}"
        return data

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @property
    def db_urls(self) -> dict[str, str]:
        return {s: getattr(self, f"{s}_db_url") for s in SERVICES}

    def db_url(self, service: str) -> str:
        if service not in DATABASES:
            raise KeyError(service)
        return getattr(self, f"{service}_db_url")

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed; ``db_urls={service: url}`` sets those services' URLs."""
        for service, url in (changes.pop("db_urls", None) or {}).items():
            changes[f"{service}_db_url"] = url
        unknown = set(changes) - set(type(self).model_fields)
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return self.model_copy(update=changes)

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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the process environment, or from ``environ`` alone when it is given."""
    return settings_from(Settings, environ)


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
