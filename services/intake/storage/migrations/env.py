from gongyi.db import run_migrations_in_env
from services.intake.storage.tables import metadata

run_migrations_in_env(metadata)
