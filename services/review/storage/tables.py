"""Review's own tables: the project read model built from intake's events (plus outbox/inbox).

This table, not the search index, is the source of truth: the index is rebuilt from it.
"""

from __future__ import annotations

import sqlalchemy as sa

from gongyi.events.tables import add_messaging_tables

metadata = sa.MetaData()
add_messaging_tables(metadata)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("application_id", sa.String(36), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("call_version", sa.Integer, nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("project_name", sa.Text, nullable=True),
    sa.Column("category", sa.String(64), nullable=True),
    sa.Column("form", sa.JSON, nullable=False),
    sa.Column("unit_opinion", sa.Text, nullable=True),
    sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # the index catches up whenever indexed_version < version (search engine down, rebuilt, ...)
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("indexed_version", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_projects_unindexed", "indexed_version", "version"),
)
