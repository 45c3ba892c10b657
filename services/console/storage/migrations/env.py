from gongyi.db import run_migrations_in_env
from services.console.storage.tables import metadata

run_migrations_in_env(metadata)
