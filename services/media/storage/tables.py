"""The media service's own tables (outbox and inbox for now)."""

from __future__ import annotations

import sqlalchemy as sa

from gongyi.events.tables import add_messaging_tables

metadata = sa.MetaData()
add_messaging_tables(metadata)
