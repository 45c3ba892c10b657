"""Initial intake schema: calls, call versions, applications, batches, outbox, inbox.

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
        "calls",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "call_versions",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("fingerprint", sa.String(80), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(120), nullable=False),
        sa.Column("change_note", sa.Text, nullable=True),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("call_version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("applicant_sub", sa.String(120), nullable=False, index=True),
        sa.Column("applicant_org", sa.String(120), nullable=True),
        sa.Column("unit_code", sa.String(64), nullable=True, index=True),
        sa.Column("project_name", sa.Text, nullable=True),
        sa.Column("name_key", sa.Text, nullable=True),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("form", sa.JSON, nullable=False),
        sa.Column("unit_opinion", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("batch_id", sa.String(36), nullable=True),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_applications_identity", "applications", ["call_id", "credit_code", "name_key"])
    op.create_table(
        "batches",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(120), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("unit_code", "idempotency_key", name="uq_batches_unit_key"),
    )


def downgrade() -> None:
    for table in ("batches", "applications", "call_versions", "calls", "inbox", "outbox"):
        op.drop_table(table)
