"""Duplicate detection's tables, in review's one ``metadata`` so Alembic sees a single schema.

SQL is the source of truth: the candidate index (Elasticsearch) holds one posting document per
key, recomputed from ``dup_keys`` and rebuilt from it.
"""

from __future__ import annotations

import hashlib

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
    # Only the pending rows, in the order the loop takes them: without it every pass of the loop
    # (twice a second when idle) scanned the whole table (34 ms at 100k projects). Migration 0004.
    sa.Index("ix_dup_signals_unchecked", "updated_at", postgresql_where=sa.text("checked_version < version")),
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

# The candidate keys as last written to the index: one row per (key, application), active
# applications only. A key's posting document is recomputed from here (docs/duplicates.md).
dup_keys = sa.Table(
    "dup_keys",
    metadata,
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("application_id", sa.String(64), primary_key=True, index=True),
)

# Keys whose posting document must be rewritten from ``dup_keys``. Committed together with the
# ``dup_keys`` change and cleared only after the engine took the new postings, so an engine
# failure half-way through a bulk write is repaired by the next pass.
dup_keys_dirty = sa.Table(
    "dup_keys_dirty",
    metadata,
    sa.Column("key", sa.String(256), primary_key=True),
)

_MAX_KEY_BYTES = 200


def posting_key(kind: str, value: str) -> str:
    """``"<kind>|<value>"``: the row key in ``dup_keys`` and the posting document's ``_id``.
    Values too long for an ``_id`` (512 bytes) or a btree entry, in practice only long media
    links, are replaced by their sha256: still one key per value."""
    key = f"{kind}|{value}"
    if len(key.encode()) <= _MAX_KEY_BYTES:
        return key
    return f"{kind}|#{hashlib.sha256(value.encode()).hexdigest()}"


def key_kind(key: str) -> str:
    return key.split("|", 1)[0]
