"""Evidence metadata, presigned upload sessions and access grants.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_sub", sa.String(120), nullable=False, index=True),
        sa.Column("owner_org", sa.String(120), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("mime", sa.String(80), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True, index=True),
        sa.Column("object_key", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("phash", sa.String(16), nullable=True),
        sa.Column("phash_bands", sa.JSON, nullable=False),
        sa.Column("normalised_link", sa.Text, nullable=True),
        sa.Column("link", sa.Text, nullable=True),
        sa.Column("outlet", sa.Text, nullable=True),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("published_on", sa.Date, nullable=True),
        sa.Column("screenshot_evidence_id", sa.String(36), nullable=True, index=True),
        sa.Column("display_name", sa.Text, nullable=True),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("attached_to", sa.JSON, nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=True),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "upload_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_sub", sa.String(120), nullable=False, index=True),
        sa.Column("owner_org", sa.String(120), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("declared_size", sa.BigInteger, nullable=False),
        sa.Column("display_name", sa.Text, nullable=True),
        sa.Column("quarantine_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("evidence_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "access_grants",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("unit_code", sa.String(64), nullable=True),
        sa.Column("evidence_ids", sa.JSON, nullable=False),
        sa.Column("expert_ids", sa.JSON, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("access_grants", "upload_sessions", "evidence"):
        op.drop_table(table)
