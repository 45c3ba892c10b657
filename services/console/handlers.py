"""The console's use cases: accounts, sign-in, sessions, one-time links, ownership, notifications
and the e-mail outbox. Each takes the unit of work first and commits what it changed."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gongyi.db import UnitOfWork
from services.console.domain import accounts as acc
from services.console.domain import notifications as notes
from services.console.domain import sessions as sess
from services.console.domain.accounts import Account
from services.console.domain.refusals import refuse
from services.console.storage.repository import ConsoleRepository

log = logging.getLogger(__name__)
Mailer = Callable[[str, str, str], None]  # (to, subject, body); raises when the mail server refuses


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def repo(uow: UnitOfWork) -> ConsoleRepository:
    return ConsoleRepository(uow.session)


@dataclass(frozen=True)
class Visit:
    """The session behind one request: its id (the cookie's value), CSRF token and account."""

    session_id: str
    csrf: str
    account: Account | None
    expired: bool = False  # the cookie named a session that has ended
    new: bool = False  # a cookie must be set


# -- sessions


def open_visit(uow: UnitOfWork, cookie: str | None, idle_s: int, absolute_s: int) -> Visit:
    """The visitor's session: the cookie's if it is live, else a new anonymous one."""
    r, now = repo(uow), now_utc()
    expired = False
    if cookie:
        row = r.session(sess.digest(cookie))
        if row is not None:
            times = sess.SessionTimes(row["created_at"], row["last_seen_at"])
            if not sess.session_expired(times, now, idle_s, absolute_s):
                r.touch_session(row["id_hash"], now)
                account = r.account(row["account_id"]) if row["account_id"] else None
                uow.commit()
                return Visit(cookie, row["csrf"], account)
            expired = row["account_id"] is not None
            r.end_session(row["id_hash"])
    visit = _new_session(r, None, now)
    uow.commit()
    return Visit(visit.session_id, visit.csrf, None, expired=expired, new=True)


def _new_session(r: ConsoleRepository, account: Account | None, now: dt.datetime) -> Visit:
    secret, csrf = sess.new_secret(), sess.new_secret()
    r.add_session(sess.digest(secret), account.id if account else None, csrf, now)
    return Visit(secret, csrf, account, new=True)


def sign_in(uow: UnitOfWork, visit: Visit, email: str, password: str, client: str, rate: str) -> Visit:
    """Check the password; on success a new session replaces the visitor's (no fixation)."""
    r, now = repo(uow), now_utc()
    limit, window = sess.parse_rate(rate)
    address = (email or "").strip().lower()
    keys = (f"email:{address}", f"client:{client}")
    since = now - dt.timedelta(seconds=window)
    # one address may be a whole office behind NAT: it gets ten times an account's allowance
    limits = {keys[0]: limit, keys[1]: limit * 10}
    if any(sess.too_many_attempts(r.failures(k, since), now, limits[k], window) for k in keys):
        raise refuse("too_many_attempts", retry_after_s=window)
    account, stored = r.account_by_email(address)
    if account is None or not acc.verify_password(stored, password):
        for key in keys:
            r.add_failure(key, now)
        uow.commit()
        raise refuse("bad_credentials")
    if not account.active:
        raise refuse("account_pending")
    if stored and acc.needs_rehash(stored):
        r.set_password(account.id, acc.hash_password(password))
    r.clear_failures(keys[0])
    r.end_session(sess.digest(visit.session_id))
    fresh = _new_session(r, account, now)
    uow.commit()
    return fresh


def sign_out(uow: UnitOfWork, visit: Visit) -> None:
    repo(uow).end_session(sess.digest(visit.session_id))
    uow.commit()


# -- accounts and one-time links


def _ticket(r: ConsoleRepository, account_id: str, purpose: str, ttl_s: int) -> str:
    secret = sess.new_secret()
    r.add_ticket(sess.digest(secret), account_id, purpose, now_utc() + dt.timedelta(seconds=ttl_s))
    return secret


def register_applicant(uow: UnitOfWork, *, email: str, password: str, repeated: str, name: str, org_name: str,
                       org_code: str, origin: str, ttl_s: int) -> Account:
    """Self-registration: a pending account and a confirmation e-mail; active once confirmed."""
    r = repo(uow)
    address = acc.normalise_email(email)
    acc.check_new_password(password, repeated)
    if not (name.strip() and org_name.strip() and org_code.strip()):
        raise refuse("missing_field")
    if r.account_by_email(address)[0] is not None:
        raise refuse("email_taken")
    account = r.add_account(email=address, role="applicant", name=name.strip(), status="pending",
                            password_hash=acc.hash_password(password), org_code=org_code.strip().upper(),
                            org_name=org_name.strip(), now=now_utc())
    link = f"{origin}/console/confirm/{_ticket(r, account.id, 'confirm', ttl_s)}"
    r.queue_mail(address, "请确认您的邮箱 / Confirm your e-mail",
                 f"{name}，您好：\n\n请打开以下链接确认邮箱，完成申报账号注册：\n{link}\n\n"
                 "如非本人操作，请忽略本邮件。", now_utc())
    uow.commit()
    return account


def confirm_email(uow: UnitOfWork, secret: str) -> Account:
    r = repo(uow)
    account_id = r.take_ticket(sess.digest(secret), "confirm", now_utc())
    if account_id is None:
        raise refuse("ticket_invalid")
    r.activate(account_id)
    uow.commit()
    return r.account(account_id)  # type: ignore[return-value]


def invite(uow: UnitOfWork, *, email: str, role: str, name: str, origin: str, ttl_s: int,
           unit_code: str | None = None, expert_id: str | None = None) -> tuple[Account, str]:
    """Staff (or the CLI, for the first staff account) invite a unit, expert or staff account.
    Returns the account and the invitation link, which is also e-mailed."""
    r = repo(uow)
    address = acc.normalise_email(email)
    acc.check_invitation(role, unit_code, expert_id)
    if r.account_by_email(address)[0] is not None:
        raise refuse("email_taken")
    account = r.add_account(email=address, role=role, name=(name or address).strip(), status="pending",
                            unit_code=unit_code or None, expert_id=expert_id or None, now=now_utc())
    link = f"{origin}/console/invitation/{_ticket(r, account.id, 'invite', ttl_s)}"
    r.queue_mail(address, f"邀请您使用网络公益项目征集平台（{acc.ROLE_LABELS[role]}）",
                 f"{account.name}，您好：\n\n组织方邀请您以“{acc.ROLE_LABELS[role]}”身份使用平台。"
                 f"请打开以下链接设置密码：\n{link}\n\n链接在{ttl_s // 86400 or 1}天内有效，仅能使用一次。", now_utc())
    uow.commit()
    return account, link


def invitation_account(uow: UnitOfWork, secret: str, purpose: str = "invite") -> Account:
    r = repo(uow)
    account_id = r.peek_ticket(sess.digest(secret), purpose, now_utc())
    if account_id is None:
        raise refuse("ticket_invalid")
    return r.account(account_id)  # type: ignore[return-value]


def set_password_by_ticket(uow: UnitOfWork, secret: str, purpose: str, password: str, repeated: str) -> Account:
    """Accept an invitation or finish a password reset; every other session of the account ends."""
    acc.check_new_password(password, repeated)
    r = repo(uow)
    account_id = r.take_ticket(sess.digest(secret), purpose, now_utc())
    if account_id is None:
        raise refuse("ticket_invalid")
    r.set_password(account_id, acc.hash_password(password))
    r.activate(account_id)
    r.end_sessions_of(account_id)
    uow.commit()
    return r.account(account_id)  # type: ignore[return-value]


RESETS_PER_HOUR = 3


def request_reset(uow: UnitOfWork, email: str, origin: str, ttl_s: int) -> None:
    """Always answers the same, whether the address is known or not (no account discovery);
    at most three reset mails an hour per address, so the form cannot flood a mailbox."""
    r, now = repo(uow), now_utc()
    address = (email or "").strip().lower()
    key = f"reset:{address}"
    if sess.too_many_attempts(r.failures(key, now - dt.timedelta(hours=1)), now, RESETS_PER_HOUR, 3600):
        return
    account, _ = r.account_by_email(address)
    r.add_failure(key, now)  # counted like a failed sign-in, in the same table
    uow.commit()
    if account is not None and account.active:
        link = f"{origin}/console/reset/{_ticket(r, account.id, 'reset', ttl_s)}"
        r.queue_mail(account.email, "重置密码 / Reset your password",
                     f"{account.name}，您好：\n\n请在{ttl_s // 60}分钟内打开以下链接重置密码：\n{link}\n\n"
                     "如非本人操作，请忽略本邮件，您的密码不会改变。", now_utc())
        uow.commit()


# -- ownership and notifications


def record_owner(uow: UnitOfWork, application_id: str, account: Account) -> None:
    repo(uow).own(application_id, account.id)
    uow.commit()


def _recipients(r: ConsoleRepository, audience: notes.Audience) -> list[Account]:
    if audience.kind == "owner":
        owner = r.owner(audience.key)
        account = r.account(owner) if owner else None
        return [account] if account is not None and account.active else []
    # invited people hear of work for them by e-mail even before their first sign-in
    if audience.kind == "unit":
        return r.accounts_where(include_pending=True, role="unit", unit_code=audience.key)
    if audience.kind == "expert":
        return r.accounts_where(include_pending=True, role="expert", expert_id=audience.key)
    return r.accounts_where(role="staff")


def notify_from_event(uow: UnitOfWork, event: dict[str, Any], origin: str) -> int:
    """Once per event: a notification for each person it concerns and an e-mail in the outbox."""
    if not uow.claim(event, "console.notify"):
        return 0
    r, now, count = repo(uow), now_utc(), 0
    for message in notes.messages_for(event["type"], event.get("data") or {}):
        for account in _recipients(r, message.audience):
            r.notify(account.id, event["id"], message.subject, message.body, message.link, now)
            r.queue_mail(account.email, message.subject,
                         f"{account.name}，您好：\n\n{message.body}\n\n查看：{origin}{message.link}\n", now)
            count += 1
    uow.commit()
    return count


def purge_expired(uow: UnitOfWork, absolute_s: int, window_s: int) -> int:
    """Housekeeping: sessions past their absolute lifetime and sign-in failures past the window."""
    r, now = repo(uow), now_utc()
    gone = r.purge_sessions(now - dt.timedelta(seconds=absolute_s))
    gone += r.purge_failures(now - dt.timedelta(seconds=max(window_s, 3600)))
    uow.commit()
    return gone


def send_due_mail(uow: UnitOfWork, mailer: Mailer, batch: int = 50, retry_first_s: float = 5.0) -> tuple[int, int]:
    """Send what is due; a refusal leaves the message in the outbox for a later attempt."""
    r, sent, failed = repo(uow), 0, 0
    for mail in r.due_mail(now_utc(), batch):
        try:
            mailer(mail["to_addr"], mail["subject"], mail["body"])
        except Exception as exc:  # noqa: BLE001 - any SMTP or network failure: retry later
            delay = notes.retry_delay_s(mail["attempts"] + 1, first=retry_first_s)
            r.mail_failed(mail["id"], f"{type(exc).__name__}: {exc}", now_utc() + dt.timedelta(seconds=delay))
            failed += 1
            uow.commit()
            break  # the server is likely down: do not hammer it with the rest of the batch
        r.mail_sent(mail["id"], now_utc())
        uow.commit()
        sent += 1
    return sent, failed
