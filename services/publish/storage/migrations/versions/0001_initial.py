"""Initial publish schema: outbox and inbox (the service's own tables arrive with its issue).

Revision ID: 0001
Revises:
Create Date: 2026-11-22
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
