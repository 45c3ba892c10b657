import services.review.storage.duplicates.tables  # noqa: F401 - registers its tables on the metadata
from gongyi.db import run_migrations_in_env
from services.review.storage.tables import metadata

run_migrations_in_env(metadata)
