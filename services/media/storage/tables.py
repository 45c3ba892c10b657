"""The media service's own tables: evidence metadata, presigned upload sessions, access grants.

Objects live in MinIO; these rows say what each object is, who owns it and who may read it.
Access grants are a read model built from other services' events (intake, review, publish).
"""

from __future__ import annotations

import sqlalchemy as sa

from gongyi.events.tables import add_messaging_tables

metadata = sa.MetaData()
add_messaging_tables(metadata)

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner_sub", sa.String(120), nullable=False, index=True),
    sa.Column("owner_org", sa.String(120), nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),  # image | video | document | media_report
    sa.Column("mime", sa.String(80), nullable=True),
    sa.Column("size", sa.BigInteger, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True, index=True),
    sa.Column("object_key", sa.String(200), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),  # stored | rejected | deleted
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
    sa.Column("attached_to", sa.JSON, nullable=False),  # application ids
    sa.Column("unit_code", sa.String(64), nullable=True),
    sa.Column("public", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
)

upload_sessions = sa.Table(
    "upload_sessions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner_sub", sa.String(120), nullable=False, index=True),
    sa.Column("owner_org", sa.String(120), nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("declared_size", sa.BigInteger, nullable=False),
    sa.Column("display_name", sa.Text, nullable=True),
    sa.Column("quarantine_key", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # pending | completed | rejected | expired
    sa.Column("evidence_id", sa.String(36), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

access_grants = sa.Table(
    "access_grants",
    metadata,
    sa.Column("application_id", sa.String(64), primary_key=True),
    sa.Column("unit_code", sa.String(64), nullable=True),
    sa.Column("evidence_ids", sa.JSON, nullable=False),
    sa.Column("expert_ids", sa.JSON, nullable=False),
    sa.Column("published", sa.Boolean, nullable=False, default=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
