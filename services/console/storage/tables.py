"""The console's own tables: accounts, sessions, one-time links, sign-in failures, who owns which
application, notifications and the e-mail outbox (plus the inbox every consumer keeps)."""

from __future__ import annotations

import sqlalchemy as sa

from gongyi.events.tables import add_messaging_tables

metadata = sa.MetaData()
add_messaging_tables(metadata)
_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TS = sa.DateTime(timezone=True)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("unit_code", sa.String(80), nullable=True),
    sa.Column("expert_id", sa.String(80), nullable=True),
    sa.Column("org_code", sa.String(40), nullable=True),
    sa.Column("org_name", sa.String(200), nullable=True),
    sa.Column("created_at", TS, nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(40), nullable=True),  # none: a visitor's session (CSRF for sign-in forms)
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Index("ix_sessions_last_seen", "last_seen_at"),
)

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(40), nullable=False),
    sa.Column("purpose", sa.String(20), nullable=False),  # invite | confirm | reset
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("used_at", TS, nullable=True),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Index("ix_login_failures_key", "key", "at"),
)

ownership = sa.Table(
    "ownership", metadata,
    sa.Column("application_id", sa.String(80), primary_key=True),
    sa.Column("account_id", sa.String(40), nullable=False),
)

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(40), nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("link", sa.String(300), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_notifications_account", "account_id", "id"),
)

mail_outbox = sa.Table(
    "mail_outbox", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("to_addr", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("sent_at", TS, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index("ix_mail_outbox_due", "sent_at", "next_attempt_at"),
)
