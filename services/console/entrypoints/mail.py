"""The console's e-mail: an SMTP sender and the loop that empties the outbox."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy.orm import sessionmaker

from gongyi.background import BackgroundLoop
from gongyi.db import UnitOfWork, make_engine
from services.console import handlers
from services.console.domain import sessions as sess

log = logging.getLogger(__name__)
PURGE_EVERY_S = 600  # the same loop removes ended sessions and old sign-in failures this often


def smtp_sender(smtp_url: str, sender: str, timeout: float = 10.0) -> handlers.Mailer:
    """smtp://host:port (plain, a local relay or sink) or smtps://user:password@host:port."""
    parts = urlsplit(smtp_url)

    def send(to: str, subject: str, body: str) -> None:
        if not parts.hostname:
            raise ConnectionError("no mail server configured (GONGYI_SMTP_URL)")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, to, subject
        msg["Date"] = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        msg.set_content(body)
        klass = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
        with klass(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25), timeout=timeout) as smtp:
            if parts.username:
                smtp.login(parts.username, parts.password or "")
            smtp.send_message(msg)

    return send


class MailLoop(BackgroundLoop):
    """Sends due messages from the outbox; while the server is down they wait and are retried.
    Every ten minutes it also removes ended sessions and old sign-in failures."""

    loop_name = "console.mail"
    batch = 50

    def setup(self) -> None:
        super().setup()
        settings = self.container.config["GONGYI"]
        from services.console.config import load_console_env

        env = load_console_env()
        self.idle_wait = env.mail_interval_s
        self.retry_first_s = env.mail_retry_first_s
        self.absolute_s, self.window_s = env.session_absolute_s, sess.parse_rate(env.login_rate)[1]
        self._last_purge = 0.0
        self.engine = make_engine(settings.db_url("console"))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.send = smtp_sender(settings.smtp_url, settings.mail_from)

    def step(self) -> int:
        if time.monotonic() - self._last_purge > PURGE_EVERY_S:
            self._last_purge = time.monotonic()
            with UnitOfWork(self.sessions, "console") as uow:
                handlers.purge_expired(uow, self.absolute_s, self.window_s)
        with UnitOfWork(self.sessions, "console") as uow:
            sent, failed = handlers.send_due_mail(uow, self.send, self.batch, self.retry_first_s)
        if failed:
            log.warning("console mail: the SMTP server refused; %d message(s) wait in the outbox", failed)
        return sent

    def stop(self) -> None:
        super().stop()
        self.engine.dispose()

    def get_dependency(self, worker_ctx) -> MailLoop:  # noqa: ANN001
        return self
