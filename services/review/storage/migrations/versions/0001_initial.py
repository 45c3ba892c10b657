"""Initial review schema: the project read model, outbox, inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from gongyi.events.tables import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "projects",
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
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("indexed_version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_projects_unindexed", "projects", ["indexed_version", "version"])


def downgrade() -> None:
    for table in ("projects", "inbox", "outbox"):
        op.drop_table(table)
