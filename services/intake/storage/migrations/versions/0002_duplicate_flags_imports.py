"""Duplicate flags from review and XLSX imports by units.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicate_flags",
        sa.Column("suspicion_id", sa.String(80), primary_key=True),
        sa.Column("application_id", sa.String(36), primary_key=True),
        sa.Column("other_application_id", sa.String(36), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("other_call_id", sa.String(64), nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("cluster_id", sa.String(80), nullable=True),
        sa.Column("cross_call", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=True),
        sa.Column("keep_id", sa.String(36), nullable=True),
        sa.Column("action", sa.String(20), nullable=True),
        sa.Column("decided_by", sa.String(120), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_duplicate_flags_application", "duplicate_flags", ["application_id"])
    op.create_table(
        "imports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("unit_code", "call_id", "sha256", name="uq_imports_unit_call_file"),
    )


def downgrade() -> None:
    op.drop_table("imports")
    op.drop_index("ix_duplicate_flags_application", table_name="duplicate_flags")
    op.drop_table("duplicate_flags")
