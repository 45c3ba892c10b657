"""The outbox and inbox tables every service keeps in its own database.

Outbox: events written in the same transaction as the change they describe; the relay sends them
and marks them sent (rows are kept as the event archive that `gongyi events replay` serves).
Inbox: the ids of events a handler has applied, written with the handler's effect, so a
redelivered event changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

OUTBOX = "outbox"
INBOX = "inbox"
_BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements INTEGER only


def _outbox_columns() -> list[sa.Column]:
    return [
        sa.Column("id", _BIGINT, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
    ]


def _inbox_columns() -> list[sa.Column]:
    return [
        sa.Column("handler", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    ]


_UNSENT = {"postgresql_where": sa.text("sent_at IS NULL"), "sqlite_where": sa.text("sent_at IS NULL")}


def add_messaging_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    outbox = sa.Table(OUTBOX, metadata, *_outbox_columns(), sa.Index("ix_outbox_unsent", "id", **_UNSENT))
    inbox = sa.Table(INBOX, metadata, *_inbox_columns())
    return outbox, inbox


def create_messaging_tables(op) -> None:  # noqa: ANN001 - alembic's op proxy
    """Used by each service's first migration, so the four schemas stay identical."""
    op.create_table(OUTBOX, *_outbox_columns())
    op.create_index("ix_outbox_unsent", OUTBOX, ["id"], **_UNSENT)
    op.create_table(INBOX, *_inbox_columns())


# The kernel's own handle on every service's outbox and inbox (the relay, replay and the unit of
# work read and write them); each service adds the same tables to its own metadata for migrations.
_meta = sa.MetaData()
outbox_t, inbox_t = add_messaging_tables(_meta)
