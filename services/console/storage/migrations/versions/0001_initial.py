"""Initial console schema: outbox and inbox (its own tables come in 0002).

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from alembic import op

from gongyi.events.tables import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)


def downgrade() -> None:
    for table in ("inbox", "outbox"):
        op.drop_table(table)
