"""Database access shared by every service: engines, the unit of work, migrations.

A unit of work is one SQLAlchemy session; events emitted in it are outbox rows in the same
transaction, so a change and its event commit or roll back together.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gongyi.events.envelope import encode, make_event, validate_event
from gongyi.events.tables import inbox_t, outbox_t

log = logging.getLogger(__name__)
_green_patched = False


def _patch_psycopg_for_eventlet() -> None:
    """psycopg2 blocks the whole process unless told to yield to eventlet while waiting."""
    global _green_patched
    if _green_patched:
        return
    try:
        import eventlet.patcher

        if eventlet.patcher.is_monkey_patched("socket"):
            from psycogreen.eventlet import patch_psycopg

            patch_psycopg()
    except ImportError:  # pragma: no cover - eventlet is a hard dependency
        pass
    _green_patched = True


class _GreenFileLock:
    """One checked-out connection per SQLite file in this process, waited for cooperatively.

    SQLite waits for a locked database inside C (its busy timeout), which under eventlet stops
    every green thread of the process, including the one holding the lock: the embedded mode froze
    for the whole 30 s timeout whenever two workers of a service wrote at once. Waiting here yields
    to the hub instead. Reentrant for the green thread that holds it (a use case may open a second
    connection while its session is open); released by whoever checks the connection in.
    """

    def __init__(self) -> None:
        from eventlet.semaphore import Semaphore

        self._free = Semaphore(1)
        self._owner: object | None = None
        self._depth = 0

    def acquire(self) -> None:
        import greenlet

        me = greenlet.getcurrent()
        if self._owner is me:
            self._depth += 1
            return
        self._free.acquire()
        self._owner, self._depth = me, 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth <= 0:
            self._owner, self._depth = None, 0
            self._free.release()


_SQLITE_LOCKS: dict[str, _GreenFileLock] = {}


def _one_connection_at_a_time(engine: sa.Engine, key: str) -> None:
    lock = _SQLITE_LOCKS.setdefault(key, _GreenFileLock())
    sa_event.listen(engine, "checkout", lambda *_: lock.acquire())
    sa_event.listen(engine, "checkin", lambda *_: lock.release())


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @sa_event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        if path and path != ":memory:":
            _one_connection_at_a_time(engine, str(Path(path).resolve()))
        return engine
    _patch_psycopg_for_eventlet()
    if "poolclass" not in kwargs:
        # as many kept connections as nameko workers (GONGYI max_workers 20): an overflow connection
        # is closed when returned, so a smaller pool opens a new PostgreSQL backend under every burst
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 10)
    engine = sa.create_engine(url, **kwargs)
    _ping_after_idle(engine)
    return engine


# A pooled connection idle longer than this is tested before use. SQLAlchemy's pool_pre_ping
# tests every checkout: one extra round trip per transaction, five per application in the
# pipeline benchmark. A connection lost while busy fails its one operation instead, and then
# SQLAlchemy discards the whole pool (a disconnect invalidates every older connection).
PING_AFTER_IDLE_S = 5.0


def _ping_after_idle(engine: sa.Engine, idle_s: float | None = None) -> None:
    def limit() -> float:
        return PING_AFTER_IDLE_S if idle_s is None else idle_s

    @sa_event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["returned_at"] = time.monotonic()

    @sa_event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record) -> None:  # noqa: ANN001
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @sa_event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        if time.monotonic() - record.info.get("returned_at", 0.0) <= limit():
            return
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - any failure: the pool replaces the connection
            raise sa.exc.DisconnectionError(str(exc)) from exc
        finally:
            try:
                cursor.close()
            except Exception:  # noqa: BLE001 - the connection is already gone
                pass


def conflict_insert(dialect: str) -> Callable[[sa.Table], Any]:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_nothing/do_update``
    (the platform runs on PostgreSQL, or SQLite in embedded mode)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the platform runs on PostgreSQL or SQLite
        raise RuntimeError(f"unsupported database {dialect}")
    return insert


_INSERT_OUTBOX = outbox_t.insert()  # one statement, compiled once: parameters vary per event


@cache
def _claim_statement(dialect: str) -> Any:
    # one statement per dialect, compiled once; the values are parameters
    return conflict_insert(dialect)(inbox_t).on_conflict_do_nothing()


class UnitOfWork:
    """One transaction: domain changes, emitted events (outbox) and applied events (inbox)."""

    def __init__(
        self,
        session_factory: sessionmaker,
        service: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        on_commit_with_events: Callable[[], None] | None = None,
    ) -> None:
        self._factory = session_factory
        self.service = service
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self._on_events = on_commit_with_events
        self._session: Session | None = None
        self._emitted: list[dict[str, Any]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._factory()
        return self._session

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        if exc_type is not None:
            self.rollback()
        self.close()

    def emit(self, type: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
        """Write an event to the outbox in this transaction; it is validated against its contract."""
        event = make_event(
            source_service=self.service,
            type=type,
            subject=subject,
            data=data,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )
        validate_event(event)
        self.session.execute(
            _INSERT_OUTBOX,
            {"event_id": event["id"], "type": type, "subject": subject, "body": encode(event),
             "created_at": datetime.now(UTC)},
        )
        self._emitted.append(event)
        return event

    def claim(self, event: dict[str, Any], handler: str) -> bool:
        """Record that ``handler`` applies ``event`` now; False if it was applied before.

        ON CONFLICT DO NOTHING: a concurrent duplicate waits for the first transaction and then
        sees the row, instead of failing and being retried.
        """
        values = dict(handler=handler, event_id=event["id"], event_type=event["type"], processed_at=datetime.now(UTC))
        result = self.session.execute(_claim_statement(self.session.get_bind().dialect.name), values)
        return result.rowcount == 1

    def commit(self) -> None:
        try:
            self.session.commit()
        except IntegrityError:
            self.rollback()
            raise
        if self._emitted and self._on_events:
            self._on_events()
        self._emitted = []

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        self._emitted = []

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def outbox_backlog(engine: sa.Engine) -> tuple[int, float]:
    """(unsent events, age in seconds of the oldest unsent one)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.min(outbox_t.c.created_at)).where(outbox_t.c.sent_at.is_(None))
        ).one()
    count, oldest = row
    if not oldest:
        return int(count), 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), (datetime.now(UTC) - oldest).total_seconds()


def archived_events(engine: sa.Engine, since_id: int = 0, limit: int = 1000) -> list[tuple[int, dict]]:
    """Sent and unsent events in order, for replay to late subscribers."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox_t.c.id, outbox_t.c.body)
            .where(outbox_t.c.id > since_id)
            .order_by(outbox_t.c.id)
            .limit(limit)
        ).all()
    return [(r.id, json.loads(r.body)) for r in rows]


def migrations_dir(service: str) -> Path:
    return Path(__file__).resolve().parents[1] / "services" / service / "storage" / "migrations"


def _alembic_config(service: str, url: str):  # noqa: ANN202 - alembic imported lazily
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["service"] = service
    if url.startswith("sqlite"):
        make_engine(url).dispose()  # creates the folder for the file
    return cfg


def migrate(service: str, url: str, revision: str = "head") -> None:
    """Run the service's Alembic migrations; idempotent."""
    from alembic import command

    command.upgrade(_alembic_config(service, url), revision)


class MigrationDrift(Exception):
    """The service's table definitions hold changes that no migration makes."""


def check_migrations(service: str, url: str) -> None:
    """Raise MigrationDrift when autogenerate, run against a database at head, finds a difference.

    The table definitions in ``storage/tables.py`` are the source; the migrations must follow them.
    """
    from alembic import command
    from alembic.util import AutogenerateDiffsDetected

    cfg = _alembic_config(service, url)
    command.upgrade(cfg, "head")
    try:
        command.check(cfg)
    except AutogenerateDiffsDetected as exc:
        raise MigrationDrift(f"{service}: {exc}") from exc


def new_migration(service: str, url: str, message: str) -> Path:
    """Write the next numbered migration, generated from the table definitions (then read it)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(service, url)
    command.upgrade(cfg, "head")
    head = ScriptDirectory.from_config(cfg).get_current_head() or "0000"
    rev_id = f"{int(head) + 1:04d}"
    slug = "_".join(message.lower().split())[:40] or "change"
    cfg.set_main_option("file_template", f"{rev_id}_{slug}")
    script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    return Path(script.path)


def run_migrations_in_env(target_metadata: sa.MetaData) -> None:
    """Body of every service's alembic env.py (online mode only: we always have a database)."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url, poolclass=sa.pool.NullPool) if not url.startswith("sqlite") else make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
