"""Publish tables: calls, notices (JSON aggregate + version), tracking codes, reports, cases,
screening decisions, review totals and forwarded applications (non-personal fields).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("selection_id", sa.String(64), nullable=False, unique=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("publish_at", TS, nullable=True, index=True),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "objection_codes",
        sa.Column("tracking_code", sa.String(16), primary_key=True),
        sa.Column("notice_id", sa.String(64), nullable=False),
        sa.Column("objection_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("notice_id", sa.String(64), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=False, index=True),
        sa.Column("unit_code", sa.String(64), nullable=True, index=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("report_id", sa.String(64), nullable=False, unique=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("application_id", sa.String(64), nullable=False, index=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("published_at", TS, nullable=False, index=True),
    )
    op.create_table(
        "screening_decisions",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("decided_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "review_totals",
        sa.Column("review_id", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(64), nullable=False, index=True),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("submitted_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "applications",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("province", sa.String(64), nullable=True),
        sa.Column("unit_code", sa.String(64), nullable=True),
        sa.Column("applicant_type", sa.String(64), nullable=True),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("applications")
    for table in ("review_totals", "screening_decisions", "cases", "reports", "objection_codes", "notices", "calls"):
        op.drop_table(table)
