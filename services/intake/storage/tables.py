"""Intake's own tables: calls (versioned), applications, unit batches, plus outbox and inbox."""

from __future__ import annotations

import sqlalchemy as sa

from gongyi.events.tables import add_messaging_tables

metadata = sa.MetaData()
add_messaging_tables(metadata)

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# every version of a call's rules is kept: an application stays checked against its version
call_versions = sa.Table(
    "call_versions",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("fingerprint", sa.String(80), nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("loaded_by", sa.String(120), nullable=False),
    sa.Column("change_note", sa.Text, nullable=True),
)

applications = sa.Table(
    "applications",
    metadata,
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
    sa.Index("ix_applications_identity", "call_id", "credit_code", "name_key"),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(120), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("unit_code", "idempotency_key", name="uq_batches_unit_key"),
)

# one row per application and review suspicion (both sides of a pair get one); settled in place
duplicate_flags = sa.Table(
    "duplicate_flags",
    metadata,
    sa.Column("suspicion_id", sa.String(80), primary_key=True),
    sa.Column("application_id", sa.String(36), primary_key=True),
    sa.Column("other_application_id", sa.String(36), nullable=False),
    sa.Column("call_id", sa.String(64), nullable=True),
    sa.Column("other_call_id", sa.String(64), nullable=True),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("cluster_id", sa.String(80), nullable=True),
    sa.Column("cross_call", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("outcome", sa.String(30), nullable=True),
    sa.Column("keep_id", sa.String(36), nullable=True),
    sa.Column("action", sa.String(20), nullable=True),
    sa.Column("decided_by", sa.String(120), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_duplicate_flags_application", "application_id"),
)

# XLSX imports by a unit: the same file uploaded again returns the first report, creates nothing
imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("call_id", sa.String(64), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("report", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("unit_code", "call_id", "sha256", name="uq_imports_unit_call_file"),
)

# media's evidence.stored.v1, reduced to what an application view shows (warnings such as
# low_resolution); deleted evidence is dropped (evidence.deleted.v1)
evidence_notes = sa.Table(
    "evidence_notes",
    metadata,
    sa.Column("evidence_id", sa.String(64), primary_key=True),
    sa.Column("owner_sub", sa.String(120), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("height", sa.Integer, nullable=True),
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("stored_at", sa.String(40), nullable=False),
)
