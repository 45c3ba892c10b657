"""Every application's intake state (from all of intake's application events, not only the
forwarded ones), so the year-end summary counts drafts, rejections and withdrawals too; the
applicant organisation of applications and reports, so a selected project's own team files reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        # rows from before this revision were all forwarded (state NULL + withdrawn false = forwarded)
        batch.add_column(sa.Column("state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("sequence", sa.Integer, nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(16), nullable=True))
        batch.add_column(sa.Column("as_duplicate", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("applicant_org", sa.String(32), nullable=True))
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("applicant_org", sa.String(32), nullable=True))
        batch.create_index("ix_reports_applicant_org", ["applicant_org"])


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_index("ix_reports_applicant_org")
        batch.drop_column("applicant_org")
    with op.batch_alter_table("applications") as batch:
        for column in ("applicant_org", "as_duplicate", "withdrawn_by", "sequence", "state"):
            batch.drop_column(column)
