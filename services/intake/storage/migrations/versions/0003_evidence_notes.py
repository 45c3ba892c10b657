"""Media's warnings on stored evidence (from evidence.stored.v1), shown with the applications
that cite it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_notes",
        sa.Column("evidence_id", sa.String(64), primary_key=True),
        sa.Column("owner_sub", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("stored_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("evidence_notes")
