"""Screening, experts, assignments, reviews, rankings, selections, audit log.

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

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("loaded_at", TZ, nullable=False),
    )
    op.create_table(
        "screening_reports",
        sa.Column("application_id", sa.String(36), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("call_version", sa.Integer, nullable=True),
        sa.Column("project_version", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("screened_at", TZ, nullable=False),
    )
    op.create_table(
        "screening_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.String(36), nullable=False, index=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("report_outcome", sa.String(16), nullable=False),
        sa.Column("overrides", sa.JSON, nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
    )
    op.create_table(
        "evidence_notes",
        sa.Column("evidence_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "experts",
        sa.Column("expert_id", sa.String(64), primary_key=True),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "conflict_declarations",
        sa.Column("expert_id", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(36), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("declared_at", TZ, nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("application_id", sa.String(36), primary_key=True),
        sa.Column("expert_id", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("review_id", sa.String(36), primary_key=True),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("expert_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("scores", sa.JSON, nullable=False),
        sa.Column("comments", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Float, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("application_id", "expert_id", name="uq_reviews_application_expert"),
    )
    op.create_table(
        "rankings",
        sa.Column("ranking_id", sa.String(36), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("method", sa.JSON, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("computed_by", sa.String(200), nullable=False),
        sa.Column("computed_at", TZ, nullable=False),
    )
    op.create_table(
        "selection_proposals",
        sa.Column("proposal_id", sa.String(36), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("ranking_id", sa.String(36), nullable=False),
        sa.Column("quota", sa.Integer, nullable=False),
        sa.Column("per_category", sa.JSON, nullable=False),
        sa.Column("selected", sa.JSON, nullable=False),
        sa.Column("issues", sa.JSON, nullable=False),
        sa.Column("adjustments", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "selections",
        sa.Column("selection_id", sa.String(36), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False, index=True),
        sa.Column("proposal_id", sa.String(36), nullable=False, unique=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("snapshot_hash", sa.String(64), nullable=False),
        sa.Column("confirmed_by", sa.String(200), nullable=False),
        sa.Column("confirmed_at", TZ, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(64), nullable=False, index=True),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False, index=True),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        # A confirmed selection and the audit trail are records: the database itself refuses changes.
        op.execute(
            "CREATE FUNCTION gongyi_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME; END $$"
        )
        for table in ("selections", "audit_log"):
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION gongyi_refuse_change()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("selections", "audit_log"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS gongyi_refuse_change()")
    for table in (
        "audit_log", "selections", "selection_proposals", "rankings", "reviews", "assignments",
        "conflict_declarations", "experts", "evidence_notes", "screening_decisions", "screening_reports", "calls",
    ):
        op.drop_table(table)
