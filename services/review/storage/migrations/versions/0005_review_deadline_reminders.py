"""review deadline reminders

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 12:21:35.710401
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_reminders',
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('expert_id', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pending', sa.JSON(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('call_id', 'expert_id', 'due_at')
    )


def downgrade() -> None:
    op.drop_table('review_reminders')
