"""Duplicate detection: signals, evidence facts, suspicions, settlements.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dup_signals",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("unit_code", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.JSON, nullable=False),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("signals_version", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("checked_version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_dup_signals_pending", "dup_signals", ["checked_version", "version"])
    op.create_table(
        "dup_evidence",
        sa.Column("evidence_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("phash", sa.String(16), nullable=True),
        sa.Column("normalised_link", sa.Text, nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "dup_application_evidence",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("evidence_id", sa.String(64), primary_key=True, index=True),
    )
    op.create_table(
        "dup_suspicions",
        sa.Column("suspicion_id", sa.String(36), primary_key=True),
        sa.Column("a_id", sa.String(64), nullable=False, index=True),
        sa.Column("b_id", sa.String(64), nullable=False, index=True),
        sa.Column("a_call", sa.String(64), nullable=True),
        sa.Column("b_call", sa.String(64), nullable=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("counter_reasons", sa.JSON, nullable=False),
        sa.Column("cross_call", sa.Boolean, nullable=False),
        sa.Column("cross_unit", sa.Boolean, nullable=False),
        sa.Column("cluster_id", sa.String(80), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settlement_id", sa.String(36), nullable=True),
        sa.UniqueConstraint("a_id", "b_id", name="uq_dup_suspicions_pair"),
    )
    op.create_table(
        "dup_settlements",
        sa.Column("settlement_id", sa.String(36), primary_key=True),
        sa.Column("suspicion_id", sa.String(36), nullable=False, index=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("application_ids", sa.JSON, nullable=False),
        sa.Column("keep_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(20), nullable=True),
        sa.Column("decided_by", sa.String(120), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "dup_settled_pairs",
        sa.Column("a_id", sa.String(64), primary_key=True),
        sa.Column("b_id", sa.String(64), primary_key=True, index=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("settlement_id", sa.String(36), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "dup_settled_pairs",
        "dup_settlements",
        "dup_suspicions",
        "dup_application_evidence",
        "dup_evidence",
        "dup_signals",
    ):
        op.drop_table(table)
