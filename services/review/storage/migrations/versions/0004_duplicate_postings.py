"""Duplicate detection: candidate keys per application, for the posting index; pending rows
found through a partial index instead of a scan of dup_signals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

``dup_keys`` starts empty: the review service sees the index's older mapping version at start
and rebuilds it, which fills ``dup_keys`` from ``dup_signals`` first (handlers/duplicates.rebuild_index).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dup_keys",
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("application_id", sa.String(64), primary_key=True),
    )
    op.create_index("ix_dup_keys_application_id", "dup_keys", ["application_id"])
    op.create_table(
        "dup_keys_dirty",
        sa.Column("key", sa.String(256), primary_key=True),
    )
    # (checked_version, version) cannot answer "checked_version < version"; a partial index can
    op.drop_index("ix_dup_signals_pending", table_name="dup_signals")
    op.create_index(
        "ix_dup_signals_unchecked", "dup_signals", ["updated_at"], postgresql_where=sa.text("checked_version < version")
    )


def downgrade() -> None:
    op.drop_index("ix_dup_signals_unchecked", table_name="dup_signals")
    op.create_index("ix_dup_signals_pending", "dup_signals", ["checked_version", "version"])
    op.drop_table("dup_keys_dirty")
    op.drop_index("ix_dup_keys_application_id", table_name="dup_keys")
    op.drop_table("dup_keys")
