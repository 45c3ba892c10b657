"""Pooled PostgreSQL connections: tested before use only after sitting idle (gongyi.db).

- a connection idle longer than PING_AFTER_IDLE_S whose backend died is replaced unseen;
- a connection reused at once is not tested (no extra round trip per transaction): if its
  backend died, that one operation fails, and the pool is renewed for the next.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import gongyi.db
from gongyi.db import make_engine


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(settings, pid: int) -> None:
    admin = sa.create_engine(settings.db_url("review"), poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    admin.dispose()


def _statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_an_idle_connection_whose_backend_died_is_replaced_unseen(settings, monkeypatch):
    engine = make_engine(settings.db_url("review"), pool_size=1, max_overflow=0)
    try:
        first = _backend_pid(engine)
        _terminate(settings, first)
        monkeypatch.setattr(gongyi.db, "PING_AFTER_IDLE_S", 0.0)  # every checkout counts as idle
        assert _backend_pid(engine) != first  # no error: the ping found it dead, the pool reconnected
    finally:
        engine.dispose()


def test_a_busy_connection_is_not_pinged_and_a_dead_one_fails_once(settings, monkeypatch):
    monkeypatch.setattr(gongyi.db, "PING_AFTER_IDLE_S", 3600.0)
    engine = make_engine(settings.db_url("review"), pool_size=1, max_overflow=0)
    try:
        statements = _statements(engine)
        first = _backend_pid(engine)
        _backend_pid(engine)
        assert statements == ["SELECT pg_backend_pid()"] * 2  # no "SELECT 1" before each use
        _terminate(settings, first)
        with pytest.raises(sa.exc.OperationalError):
            _backend_pid(engine)
        assert _backend_pid(engine) != first  # the pool was renewed after the failure
    finally:
        engine.dispose()
