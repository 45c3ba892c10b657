"""The publish service's tables: calls it knows, notices (JSON documents with a version for
optimistic locking), the tracking-code index, reports, typical cases, and review's counts for the
year-end summary; plus outbox and inbox."""

from __future__ import annotations

import sqlalchemy as sa

from gongyi.events.tables import add_messaging_tables

metadata = sa.MetaData()
add_messaging_tables(metadata)

TS = sa.DateTime(timezone=True)

# what publish needs from intake's call.loaded.v1 (the latest version wins)
calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

# One row per Notice aggregate. ``document`` is the whole aggregate (entries, objections with the
# objectors' contacts, replacements); ``version`` guards concurrent writers (compare-and-set).
notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("selection_id", sa.String(64), nullable=False, unique=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("publish_at", TS, nullable=True, index=True),
    sa.Column("published_at", TS, nullable=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("snapshot", sa.JSON, nullable=False),  # selection.confirmed.v1 data as received
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

# tracking code -> objection, so the public lookup does not scan every notice
objection_codes = sa.Table(
    "objection_codes",
    metadata,
    sa.Column("tracking_code", sa.String(16), primary_key=True),
    sa.Column("notice_id", sa.String(64), nullable=False),
    sa.Column("objection_id", sa.String(64), nullable=False),
)

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("notice_id", sa.String(64), nullable=False),
    sa.Column("application_id", sa.String(64), nullable=False, index=True),
    sa.Column("unit_code", sa.String(64), nullable=True, index=True),
    # the applicant organisation's credit code: its team (applicant tokens with this ``org``) sees the report
    sa.Column("applicant_org", sa.String(32), nullable=True, index=True),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

# Tracking-report reminders sent: one per project and deadline (a moved deadline is a new row).
report_reminders = sa.Table(
    "report_reminders",
    metadata,
    sa.Column("application_id", sa.String(64), primary_key=True),
    sa.Column("due_at", TS, primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("sent_at", TS, nullable=False),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("report_id", sa.String(64), nullable=False, unique=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("application_id", sa.String(64), nullable=False, index=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("published_at", TS, nullable=False, index=True),
)

# review's screening.decided.v1 (latest decision per application)
screening = sa.Table(
    "screening_decisions",
    metadata,
    sa.Column("application_id", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("decided_at", sa.String(40), nullable=False),
)

# review's review.submitted.v1 (a resubmitted review replaces its earlier total)
review_totals = sa.Table(
    "review_totals",
    metadata,
    sa.Column("review_id", sa.String(64), primary_key=True),
    sa.Column("application_id", sa.String(64), nullable=False, index=True),
    sa.Column("total", sa.Float, nullable=False),
    sa.Column("submitted_at", sa.String(40), nullable=False),
)

# intake's application.*.v1 events, reduced to the non-personal fields the year-end summary counts
# and each application's latest state (the one of the highest ``sequence``)
applications = sa.Table(
    "applications",
    metadata,
    sa.Column("application_id", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False, index=True),
    sa.Column("category", sa.String(64), nullable=True),
    sa.Column("province", sa.String(64), nullable=True),
    sa.Column("unit_code", sa.String(64), nullable=True),
    sa.Column("applicant_type", sa.String(64), nullable=True),
    sa.Column("withdrawn", sa.Boolean, nullable=False),
    sa.Column("state", sa.String(16), nullable=True),
    sa.Column("sequence", sa.Integer, nullable=True),
    sa.Column("withdrawn_by", sa.String(16), nullable=True),
    sa.Column("as_duplicate", sa.Boolean, nullable=False, server_default=sa.false()),
    # the organisation's credit code (public registry data, never shown): whose team may report progress
    sa.Column("applicant_org", sa.String(32), nullable=True),
)
