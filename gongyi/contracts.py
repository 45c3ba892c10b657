"""Where the contracts are (event schemas, the call schema, OpenAPI): the repo's top-level
contracts/, or GONGYI_CONTRACTS_DIR in an installed image. Plain data, so domain code may read it."""

from __future__ import annotations

from pathlib import Path

from gongyi.config import load_settings

CONTRACTS_ROOT = Path(load_settings().contracts_dir)
