"""Each service's migrations make exactly its table definitions, on a fresh PostgreSQL database.

The tables in ``storage/tables.py`` are the source; ``gongyi migrations new`` writes a migration
from them and ``gongyi migrations check`` fails when one is missing.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
import sqlalchemy as sa
from conftest import PG_DSN

from gongyi.config import DATABASES
from gongyi.db import MigrationDrift, check_migrations, new_migration


@pytest.fixture
def fresh_db() -> Iterator[str]:
    name = f"gongyi_mig_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://")
    try:
        yield f"{base}/{name}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.mark.parametrize("service", DATABASES)
def test_the_migrations_make_the_tables_as_defined(service: str, fresh_db: str) -> None:
    check_migrations(service, fresh_db)  # raises MigrationDrift on any difference

    engine = sa.create_engine(fresh_db)
    try:
        present = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    metadata = importlib.import_module(f"services.{service}.storage.tables").metadata
    assert set(metadata.tables) <= present


def test_a_table_without_a_migration_is_caught_and_one_is_generated(fresh_db: str) -> None:
    metadata = importlib.import_module("services.media.storage.tables").metadata
    probe = sa.Table("drift_probe", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("label", sa.String(40), nullable=False))
    written = None
    try:
        with pytest.raises(MigrationDrift, match="drift_probe"):
            check_migrations("media", fresh_db)
        written = new_migration("media", fresh_db, "add drift probe")
        text = written.read_text(encoding="utf-8")
        assert written.name.startswith("0003_add_drift_probe")
        assert "op.create_table('drift_probe'" in text or 'op.create_table("drift_probe"' in text
        assert "sa.Column('label', sa.String(length=40), nullable=False)" in text
    finally:
        metadata.remove(probe)
        if written is not None:
            written.unlink()
    check_migrations("media", fresh_db)  # the probe gone, nothing left over
