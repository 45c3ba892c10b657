"""Review's own tables: the project read model built from intake's events (plus outbox/inbox).

This table, not the search index, is the source of truth: the index is rebuilt from it.
"""

from __future__ import annotations

import sqlalchemy as sa

from gongyi.events.tables import add_messaging_tables

metadata = sa.MetaData()
add_messaging_tables(metadata)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("application_id", sa.String(36), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("call_version", sa.Integer, nullable=False),
    sa.Column("unit_code", sa.String(64), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("project_name", sa.Text, nullable=True),
    sa.Column("category", sa.String(64), nullable=True),
    sa.Column("form", sa.JSON, nullable=False),
    sa.Column("unit_opinion", sa.Text, nullable=True),
    sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # the index catches up whenever indexed_version < version (search engine down, rebuilt, ...)
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("indexed_version", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_projects_unindexed", "indexed_version", "version"),
)

# -- the review process (migration 0002) ------------------------------------------------------

# Every version of every call, as intake announced it (call.loaded.v1): review reads its rules here.
calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("fingerprint", sa.String(128), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
)

screening_reports = sa.Table(
    "screening_reports",
    metadata,
    sa.Column("application_id", sa.String(36), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("call_version", sa.Integer, nullable=True),
    sa.Column("project_version", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("findings", sa.JSON, nullable=False),
    sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
)

screening_decisions = sa.Table(
    "screening_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("application_id", sa.String(36), nullable=False, index=True),
    sa.Column("call_id", sa.String(64), nullable=False),
    sa.Column("decision", sa.String(8), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("report_outcome", sa.String(16), nullable=False),
    sa.Column("overrides", sa.JSON, nullable=False),
    sa.Column("decided_by", sa.String(200), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
)

# Quality warnings media reported per piece of evidence (evidence.stored.v1), shown in screening.
evidence_notes = sa.Table(
    "evidence_notes",
    metadata,
    sa.Column("evidence_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

experts = sa.Table(
    "experts",
    metadata,
    sa.Column("expert_id", sa.String(64), primary_key=True),
    sa.Column("profile", sa.JSON, nullable=False),  # the domain Expert's fields, plus contact (personal data)
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

conflict_declarations = sa.Table(
    "conflict_declarations",
    metadata,
    sa.Column("expert_id", sa.String(64), primary_key=True),
    sa.Column("application_id", sa.String(36), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per (project, expert) ever proposed; only status 'active' seats count.
assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("application_id", sa.String(36), primary_key=True),
    sa.Column("expert_id", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),  # active | removed | declined | conflicted
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("review_id", sa.String(36), primary_key=True),
    sa.Column("application_id", sa.String(36), nullable=False),
    sa.Column("expert_id", sa.String(64), nullable=False),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("scores", sa.JSON, nullable=False),
    sa.Column("comments", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # draft | submitted
    sa.Column("total", sa.Float, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("application_id", "expert_id", name="uq_reviews_application_expert"),
)

# Review-deadline reminders sent: one per expert and deadline (a moved deadline is a new row).
review_reminders = sa.Table(
    "review_reminders",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("expert_id", sa.String(64), primary_key=True),
    sa.Column("due_at", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("pending", sa.JSON, nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
)

# Every ranking computed: the method and every input are kept, so the figures can be recomputed.
rankings = sa.Table(
    "rankings",
    metadata,
    sa.Column("ranking_id", sa.String(36), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("method", sa.JSON, nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("computed_by", sa.String(200), nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
)

selection_proposals = sa.Table(
    "selection_proposals",
    metadata,
    sa.Column("proposal_id", sa.String(36), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("ranking_id", sa.String(36), nullable=False),
    sa.Column("quota", sa.Integer, nullable=False),
    sa.Column("per_category", sa.JSON, nullable=False),
    sa.Column("selected", sa.JSON, nullable=False),  # application ids in rank order
    sa.Column("issues", sa.JSON, nullable=False),
    sa.Column("adjustments", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # proposed | confirmed
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Confirmed selections: written once, never updated (PostgreSQL also refuses UPDATE and DELETE).
selections = sa.Table(
    "selections",
    metadata,
    sa.Column("selection_id", sa.String(36), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("proposal_id", sa.String(36), nullable=False, unique=True),
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Column("snapshot_hash", sa.String(64), nullable=False),
    sa.Column("confirmed_by", sa.String(200), nullable=False),
    sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=False, index=True),
    sa.Column("before", sa.JSON, nullable=True),
    sa.Column("after", sa.JSON, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
)
