"""Where the contracts are (event schemas, the call schema, OpenAPI): the repo's top-level
contracts/, or GONGYI_CONTRACTS_DIR in an installed image. Plain data, so domain code may read it;
its own settings class, not gongyi.config's (which loads the embedded broker)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class ContractsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGYI_", env_ignore_empty=True, frozen=True, extra="ignore")

    contracts_dir: Path = Path(__file__).resolve().parents[1] / "contracts"


CONTRACTS_ROOT = ContractsSettings().contracts_dir
