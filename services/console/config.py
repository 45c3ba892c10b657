"""The console's own settings, read from ``GONGYI_CONSOLE_*`` environment variables."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic_settings import BaseSettings, SettingsConfigDict

from gongyi.config import GivenEnviron, Settings, settings_from


class ConsoleEnv(GivenEnviron, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGYI_CONSOLE_", env_ignore_empty=True, frozen=True, extra="ignore")

    # the origin people open in their browser, for links in e-mail; empty: the platform's API base URL
    base_url: str = ""
    session_idle_s: int = 30 * 60
    session_absolute_s: int = 12 * 3600
    # failed sign-ins per e-mail address (and per client address) before a pause: "<count>/<seconds>"
    login_rate: str = "5/300"
    invite_ttl_s: int = 7 * 86400
    confirm_ttl_s: int = 3 * 86400
    reset_ttl_s: int = 3600
    # "auto": Secure cookies outside the embedded mode; "always" / "never" to force
    secure_cookies: str = "auto"
    mail_interval_s: float = 1.0
    # the first wait before a refused e-mail is tried again; it doubles up to 10 minutes
    mail_retry_first_s: float = 5.0
    # seconds an API token minted for one page request lives
    api_token_ttl_s: int = 300


def load_console_env(environ: Mapping[str, str] | None = None) -> ConsoleEnv:
    return settings_from(ConsoleEnv, environ)


def api_base(settings: Settings) -> str:
    return (settings.api_base_url or f"http://127.0.0.1:{settings.http_port}").rstrip("/")


def console_origin(settings: Settings, env: ConsoleEnv) -> str:
    return (env.base_url or api_base(settings)).rstrip("/")


def secure_cookies(settings: Settings, env: ConsoleEnv) -> bool:
    if env.secure_cookies == "always":
        return True
    if env.secure_cookies == "never":
        return False
    return not settings.embedded
