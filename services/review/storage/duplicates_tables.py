"""Duplicate detection's tables, in review's one ``metadata`` so Alembic sees a single schema.

SQL is the source of truth: the candidate index (Elasticsearch) is rebuilt from ``dup_signals``.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.review.storage.tables import metadata

# One row per application: what compute_signals needs (``source``) and what it produced.
dup_signals = sa.Table(
    "dup_signals",
    metadata,
    sa.Column("application_id", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("unit_code", sa.String(64), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),  # active | withdrawn
    sa.Column("source", sa.JSON, nullable=False),
    sa.Column("signals", sa.JSON, nullable=False),
    sa.Column("signals_version", sa.String(80), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # the index write and the check catch up whenever checked_version < version
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("checked_version", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_dup_signals_pending", "checked_version", "version"),
)

# Evidence facts from media's evidence.stored.v1 (they may arrive before or after the form).
dup_evidence = sa.Table(
    "dup_evidence",
    metadata,
    sa.Column("evidence_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("phash", sa.String(16), nullable=True),
    sa.Column("normalised_link", sa.Text, nullable=True),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
)

# Which applications refer to which evidence (from the form's evidence ids).
dup_application_evidence = sa.Table(
    "dup_application_evidence",
    metadata,
    sa.Column("application_id", sa.String(64), primary_key=True),
    sa.Column("evidence_id", sa.String(64), primary_key=True, index=True),
)

dup_suspicions = sa.Table(
    "dup_suspicions",
    metadata,
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
    sa.Column("status", sa.String(20), nullable=False),  # open | settled | cleared
    sa.Column("fingerprint", sa.String(64), nullable=False),  # what the last event said
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("settlement_id", sa.String(36), nullable=True),
    sa.UniqueConstraint("a_id", "b_id", name="uq_dup_suspicions_pair"),
)

dup_settlements = sa.Table(
    "dup_settlements",
    metadata,
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

# Every settled pair (a_id < b_id): checks skip them; different_projects pairs are never raised again.
dup_settled_pairs = sa.Table(
    "dup_settled_pairs",
    metadata,
    sa.Column("a_id", sa.String(64), primary_key=True),
    sa.Column("b_id", sa.String(64), primary_key=True, index=True),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("settlement_id", sa.String(36), nullable=False),
)
