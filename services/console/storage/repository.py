"""Every SQL statement of the console."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.console.domain.accounts import Account
from services.console.storage.tables import (
    accounts,
    login_failures,
    mail_outbox,
    notifications,
    ownership,
    sessions,
    tickets,
)


def _account(row: Any) -> Account | None:
    if row is None:
        return None
    return Account(id=row.id, email=row.email, role=row.role, name=row.name, status=row.status,
                   unit_code=row.unit_code, expert_id=row.expert_id, org_code=row.org_code, org_name=row.org_name)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite gives naive datetimes back; every timestamp written here is UTC
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class ConsoleRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    # -- accounts
    def add_account(self, *, email: str, role: str, name: str, status: str, password_hash: str | None = None,
                    unit_code: str | None = None, expert_id: str | None = None, org_code: str | None = None,
                    org_name: str | None = None, now: dt.datetime) -> Account:
        account_id = f"acct-{uuid.uuid4().hex[:16]}"
        self.s.execute(accounts.insert().values(
            id=account_id, email=email, role=role, name=name, status=status, password_hash=password_hash,
            unit_code=unit_code, expert_id=expert_id, org_code=org_code, org_name=org_name, created_at=now))
        return self.account(account_id)  # type: ignore[return-value]

    def account(self, account_id: str) -> Account | None:
        return _account(self.s.execute(sa.select(accounts).where(accounts.c.id == account_id)).first())

    def account_by_email(self, email: str) -> tuple[Account | None, str | None]:
        row = self.s.execute(sa.select(accounts).where(accounts.c.email == email)).first()
        return _account(row), (row.password_hash if row else None)

    def set_password(self, account_id: str, password_hash: str) -> None:
        self.s.execute(accounts.update().where(accounts.c.id == account_id).values(password_hash=password_hash))

    def activate(self, account_id: str) -> None:
        self.s.execute(accounts.update().where(accounts.c.id == account_id).values(status="active"))

    def accounts_where(self, include_pending: bool = False, **match: str) -> list[Account]:
        query = sa.select(accounts)
        if not include_pending:
            query = query.where(accounts.c.status == "active")
        for column, value in match.items():
            query = query.where(accounts.c[column] == value)
        return [_account(r) for r in self.s.execute(query.order_by(accounts.c.created_at))]  # type: ignore[misc]

    def all_accounts(self) -> list[Account]:
        return [_account(r) for r in self.s.execute(sa.select(accounts).order_by(accounts.c.created_at))]  # type: ignore[misc]

    # -- sessions
    def add_session(self, id_hash: str, account_id: str | None, csrf: str, now: dt.datetime) -> None:
        self.s.execute(sessions.insert().values(id_hash=id_hash, account_id=account_id, csrf=csrf,
                                                created_at=now, last_seen_at=now))

    def session(self, id_hash: str) -> dict | None:
        row = self.s.execute(sa.select(sessions).where(sessions.c.id_hash == id_hash)).first()
        if row is None:
            return None
        return {"id_hash": row.id_hash, "account_id": row.account_id, "csrf": row.csrf,
                "created_at": _aware(row.created_at), "last_seen_at": _aware(row.last_seen_at)}

    def touch_session(self, id_hash: str, now: dt.datetime) -> None:
        self.s.execute(sessions.update().where(sessions.c.id_hash == id_hash).values(last_seen_at=now))

    def end_session(self, id_hash: str) -> None:
        self.s.execute(sessions.delete().where(sessions.c.id_hash == id_hash))

    def end_sessions_of(self, account_id: str) -> None:
        self.s.execute(sessions.delete().where(sessions.c.account_id == account_id))

    def age_session(self, id_hash: str, seconds: int) -> None:
        """Move a session's clock back (the CLI's and tests' way to let one expire)."""
        row = self.session(id_hash)
        if row:
            self.s.execute(sessions.update().where(sessions.c.id_hash == id_hash).values(
                created_at=row["created_at"] - dt.timedelta(seconds=seconds),
                last_seen_at=row["last_seen_at"] - dt.timedelta(seconds=seconds)))

    def purge_sessions(self, before: dt.datetime) -> int:
        return self.s.execute(sessions.delete().where(sessions.c.last_seen_at < before)).rowcount

    # -- one-time links
    def add_ticket(self, id_hash: str, account_id: str, purpose: str, expires_at: dt.datetime) -> None:
        self.s.execute(tickets.insert().values(id_hash=id_hash, account_id=account_id, purpose=purpose,
                                               expires_at=expires_at))

    def take_ticket(self, id_hash: str, purpose: str, now: dt.datetime) -> str | None:
        """The ticket's account if it is valid, marking it used; None otherwise."""
        row = self.s.execute(sa.select(tickets).where(tickets.c.id_hash == id_hash, tickets.c.purpose == purpose)
                             ).first()
        if row is None or row.used_at is not None or _aware(row.expires_at) < now:
            return None
        self.s.execute(tickets.update().where(tickets.c.id_hash == id_hash).values(used_at=now))
        return row.account_id

    def peek_ticket(self, id_hash: str, purpose: str, now: dt.datetime) -> str | None:
        row = self.s.execute(sa.select(tickets).where(tickets.c.id_hash == id_hash, tickets.c.purpose == purpose)
                             ).first()
        if row is None or row.used_at is not None or _aware(row.expires_at) < now:
            return None
        return row.account_id

    # -- sign-in failures
    def add_failure(self, key: str, now: dt.datetime) -> None:
        self.s.execute(login_failures.insert().values(key=key, at=now))

    def failures(self, key: str, since: dt.datetime) -> list[dt.datetime]:
        rows = self.s.execute(sa.select(login_failures.c.at).where(login_failures.c.key == key,
                                                                   login_failures.c.at >= since))
        return [_aware(r.at) for r in rows]

    def purge_failures(self, before: dt.datetime) -> int:
        return self.s.execute(login_failures.delete().where(login_failures.c.at < before)).rowcount

    def clear_failures(self, key: str) -> None:
        self.s.execute(login_failures.delete().where(login_failures.c.key == key))

    # -- ownership
    def own(self, application_id: str, account_id: str) -> None:
        if self.owner(application_id) is None:
            self.s.execute(ownership.insert().values(application_id=application_id, account_id=account_id))

    def owner(self, application_id: str) -> str | None:
        return self.s.execute(sa.select(ownership.c.account_id).where(
            ownership.c.application_id == application_id)).scalar()

    def owned_by(self, account_id: str) -> list[str]:
        return list(self.s.execute(sa.select(ownership.c.application_id).where(
            ownership.c.account_id == account_id)).scalars())

    # -- notifications and mail
    def notify(self, account_id: str, event_id: str, subject: str, body: str, link: str, now: dt.datetime) -> None:
        self.s.execute(notifications.insert().values(account_id=account_id, event_id=event_id, subject=subject,
                                                     body=body, link=link, created_at=now))

    def notifications_of(self, account_id: str, limit: int = 100) -> list[dict]:
        rows = self.s.execute(sa.select(notifications).where(notifications.c.account_id == account_id)
                              .order_by(notifications.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    def queue_mail(self, to_addr: str, subject: str, body: str, now: dt.datetime) -> None:
        self.s.execute(mail_outbox.insert().values(to_addr=to_addr, subject=subject, body=body, created_at=now,
                                                   next_attempt_at=now))

    def due_mail(self, now: dt.datetime, limit: int = 50) -> list[dict]:
        rows = self.s.execute(sa.select(mail_outbox).where(mail_outbox.c.sent_at.is_(None),
                                                           mail_outbox.c.next_attempt_at <= now)
                              .order_by(mail_outbox.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    def mail_sent(self, mail_id: int, now: dt.datetime) -> None:
        self.s.execute(mail_outbox.update().where(mail_outbox.c.id == mail_id).values(
            sent_at=now, attempts=mail_outbox.c.attempts + 1, last_error=None))

    def mail_failed(self, mail_id: int, error: str, retry_at: dt.datetime) -> None:
        self.s.execute(mail_outbox.update().where(mail_outbox.c.id == mail_id).values(
            attempts=mail_outbox.c.attempts + 1, last_error=error[:2000], next_attempt_at=retry_at))

    def mail_backlog(self) -> int:
        return self.s.execute(sa.select(sa.func.count()).select_from(mail_outbox).where(
            mail_outbox.c.sent_at.is_(None))).scalar() or 0
