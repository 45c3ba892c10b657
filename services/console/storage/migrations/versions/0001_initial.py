"""The console's schema: accounts, sessions, one-time links, sign-in failures, ownership,
notifications, the e-mail outbox, and the messaging tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from alembic import op

from gongyi.events.tables import create_messaging_tables
from services.console.storage import tables as t

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_OWN = ("accounts", "sessions", "tickets", "login_failures", "ownership", "notifications", "mail_outbox")


def upgrade() -> None:
    create_messaging_tables(op)
    bind = op.get_bind()
    for name in _OWN:
        t.metadata.tables[name].create(bind)


def downgrade() -> None:
    for name in (*reversed(_OWN), "inbox", "outbox"):
        op.drop_table(name)
