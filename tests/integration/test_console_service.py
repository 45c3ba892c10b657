"""The console's accounts, sessions and e-mail on the real stores: PostgreSQL for its database,
RabbitMQ for its consumers, and the aiosmtpd sink for mail (stopped for a while to prove that
nothing is lost when the mail server is down)."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from platform_support import free_port, running_services, wait_until
from sqlalchemy.orm import sessionmaker

from gongyi.db import UnitOfWork, make_engine
from gongyi.mailsink import read_maildir
from gongyi.runner import LocalServers
from services.console import handlers
from services.console.storage.repository import ConsoleRepository

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    servers, port = LocalServers(), free_port()
    maildir = tmp_path_factory.mktemp("mail")
    servers.start_smtp_sink(port, str(maildir))
    yield servers, port, maildir
    servers.stop()


@pytest.fixture(scope="module")
def console(settings, sink, monkeypatch_module):
    monkeypatch_module.setenv("GONGYI_CONSOLE_SECURE_COOKIES", "never")  # plain http in this test
    monkeypatch_module.setenv("GONGYI_CONSOLE_MAIL_RETRY_FIRST_S", "0.5")
    monkeypatch_module.setenv("GONGYI_CONSOLE_MAIL_INTERVAL_S", "0.2")
    port = sink[1]
    ours = settings.with_overrides(smtp_url=f"smtp://127.0.0.1:{port}")
    with running_services(ours, "console") as urls:
        monkeypatch_module.setenv("GONGYI_CONSOLE_BASE_URL", urls["console"])
        yield urls["console"], ours


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _uow(settings) -> UnitOfWork:
    engine = make_engine(settings.db_url("console"))
    return UnitOfWork(sessionmaker(engine, expire_on_commit=False), "console")


def csrf_of(page: requests.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def mail_link(maildir, to: str, kind: str) -> str:
    def found() -> str | None:
        for msg in reversed(read_maildir(maildir)):
            if msg["To"] == to and (m := re.search(rf"https?://\S+/console/{kind}/\S+", msg.get_content())):
                return m.group(0)
        return None

    return wait_until(found, timeout=30, message=f"a {kind} mail to {to}")


def register(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/console/register", timeout=10)
    answer = browser.post(f"{base}/console/register", data={
        "csrf": csrf_of(page), "org_name": "北京阳光公益基金会", "org_code": "53110000500000007T", "name": "张三",
        "email": email, "password": PASSWORD, "password2": PASSWORD}, timeout=10, allow_redirects=False)
    assert answer.status_code == 303, answer.text
    return browser


def sign_in(browser: requests.Session, base: str, email: str, password: str = PASSWORD) -> requests.Response:
    page = browser.get(f"{base}/console/login", timeout=10)
    return browser.post(f"{base}/console/login", data={"csrf": csrf_of(page), "email": email, "password": password},
                        timeout=10, allow_redirects=False)


def test_registration_needs_the_emailed_confirmation_and_then_signs_in(console, sink):
    base, _ = console
    email = f"a-{uuid.uuid4().hex[:6]}@example.org"
    browser = register(base, email)
    refused = sign_in(browser, base, email)
    assert refused.status_code == 403 and "尚未激活" in refused.text
    link = mail_link(sink[2], email, "confirm")
    assert link.startswith(base)
    assert browser.get(link, timeout=10, allow_redirects=False).status_code == 303
    assert browser.get(link, timeout=10).status_code == 400  # a link works once
    before = browser.cookies.get("gongyi_console")
    ok = sign_in(browser, base, email)
    assert ok.status_code == 303 and ok.headers["Location"] == "/console/applicant/"
    assert browser.cookies.get("gongyi_console") != before  # a new session at sign-in (no fixation)


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(console, settings):
    base, _ = console
    email = f"c-{uuid.uuid4().hex[:6]}@example.org"
    browser = requests.Session()
    browser.get(f"{base}/console/register", timeout=10)
    answer = browser.post(f"{base}/console/register", data={
        "csrf": "forged", "org_name": "机构", "org_code": "53110000500000007T", "name": "李", "email": email,
        "password": PASSWORD, "password2": PASSWORD}, timeout=10)
    assert answer.status_code == 403 and 'data-code="csrf_failed"' in answer.text
    with _uow(settings) as uow:
        assert ConsoleRepository(uow.session).account_by_email(email)[0] is None


def test_failed_sign_ins_are_limited_per_address(console, sink):
    base, _ = console
    email = f"r-{uuid.uuid4().hex[:6]}@example.org"
    browser = register(base, email)
    browser.get(mail_link(sink[2], email, "confirm"), timeout=10)
    for _ in range(5):
        assert sign_in(browser, base, email, "wrong-password!").status_code == 401
    limited = sign_in(browser, base, email)  # even the right password waits now
    assert limited.status_code == 429 and "尝试次数过多" in limited.text


def test_a_role_cannot_open_another_roles_page_and_an_anonymous_visit_is_sent_to_sign_in(console, sink):
    base, _ = console
    email = f"w-{uuid.uuid4().hex[:6]}@example.org"
    browser = register(base, email)
    anonymous = requests.get(f"{base}/console/staff/", timeout=10, allow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/console/login?next=")
    browser.get(mail_link(sink[2], email, "confirm"), timeout=10)
    sign_in(browser, base, email)
    refused = browser.get(f"{base}/console/staff/accounts", timeout=10)
    assert refused.status_code == 403 and 'data-code="wrong_role"' in refused.text


def test_an_invited_expert_sets_a_password_once_and_a_reset_link_replaces_it(console, sink):
    base, settings = console
    email = f"e-{uuid.uuid4().hex[:6]}@example.org"
    with _uow(settings) as uow:
        _, link = handlers.invite(uow, email=email, role="expert", name="王教授", expert_id="e-x", origin=base,
                                  ttl_s=3600)
    assert mail_link(sink[2], email, "invitation") == link
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    assert "接受邀请" in page.text
    done = browser.post(link, data={"csrf": csrf_of(page), "password": PASSWORD, "password2": PASSWORD},
                        timeout=10, allow_redirects=False)
    assert done.status_code == 303
    assert browser.get(link, timeout=10).status_code == 400
    assert sign_in(browser, base, email).headers["Location"] == "/console/expert/"
    page = browser.get(f"{base}/console/reset", timeout=10)
    browser.post(f"{base}/console/reset", data={"csrf": csrf_of(page), "email": email}, timeout=10)
    reset = mail_link(sink[2], email, "reset")
    page = browser.get(reset, timeout=10)
    browser.post(reset, data={"csrf": csrf_of(page), "password": "another-long-pass", "password2": "another-long-pass"},
                 timeout=10)
    assert sign_in(requests.Session(), base, email).status_code == 401
    assert sign_in(requests.Session(), base, email, "another-long-pass").status_code == 303


def test_cookies_are_secure_outside_the_embedded_mode(settings, monkeypatch):
    monkeypatch.setenv("GONGYI_CONSOLE_SECURE_COOKIES", "auto")
    assert not settings.embedded
    with running_services(settings, "console") as urls:
        cookie = requests.get(f"{urls['console']}/console/login", timeout=10).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_event_notifies_once_and_mail_waits_in_the_outbox_while_smtp_is_down(console, sink):
    base, settings = console
    servers, port, maildir = sink
    email = f"u-{uuid.uuid4().hex[:6]}@example.org"
    unit = f"unit-{uuid.uuid4().hex[:6]}"
    with _uow(settings) as uow:
        handlers.invite(uow, email=email, role="unit", name="推荐单位", unit_code=unit, origin=base, ttl_s=3600)
    mail_link(maildir, email, "invitation")
    servers.procs[-1].terminate()  # the mail server goes down
    servers.procs[-1].wait(timeout=10)
    event = {"id": str(uuid.uuid4()), "type": "application.submitted.v1", "data": {
        "application_id": f"app-{uuid.uuid4().hex[:6]}", "unit_code": unit, "project_name": "网络课堂",
        "applicant_name": "基金会"}}
    with _uow(settings) as uow:
        assert handlers.notify_from_event(uow, event, base) == 1
    with _uow(settings) as uow:
        assert handlers.notify_from_event(uow, event, base) == 0  # redelivered: nothing new
    engine = make_engine(settings.db_url("console"))

    def tried_and_waiting() -> bool:
        with engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT attempts, sent_at, last_error FROM mail_outbox WHERE to_addr = %s "
                                       "ORDER BY id DESC LIMIT 1", (email,)).first()
        return row is not None and row.attempts >= 1 and row.sent_at is None and bool(row.last_error)

    wait_until(tried_and_waiting, timeout=30, message="a refused attempt kept in the outbox")
    assert not any("待审核" in str(m["Subject"]) for m in read_maildir(maildir) if m["To"] == email)
    servers.procs.pop()
    servers.start_smtp_sink(port, str(maildir))  # back up: the outbox empties
    wait_until(lambda: any("待审核" in str(m["Subject"]) for m in read_maildir(maildir) if m["To"] == email),
               timeout=60, message="the waiting mail delivered after SMTP came back")
    with _uow(settings) as uow:
        account = ConsoleRepository(uow.session).account_by_email(email)[0]
        notes = ConsoleRepository(uow.session).notifications_of(account.id)
    assert [n["subject"] for n in notes] == ["有新的申报待审核：网络课堂"]
    engine.dispose()


def test_reset_mails_are_limited_and_unknown_addresses_get_the_same_answer(console, sink):
    base, _ = console
    email = f"p-{uuid.uuid4().hex[:6]}@example.org"
    browser = register(base, email)
    browser.get(mail_link(sink[2], email, "confirm"), timeout=10)
    answers = []
    for address in (email, email, email, email, f"nobody-{uuid.uuid4().hex[:6]}@example.org"):
        page = browser.get(f"{base}/console/reset", timeout=10)
        answers.append(browser.post(f"{base}/console/reset", data={"csrf": csrf_of(page), "email": address},
                                    timeout=10, allow_redirects=False).headers["Location"])
    assert len(set(answers)) == 1  # the same page whatever the address
    wait_until(lambda: sum("重置密码" in str(m["Subject"]) for m in read_maildir(sink[2]) if m["To"] == email) >= 3,
               timeout=30, message="three reset mails")
    time.sleep(2)  # a fourth would have been sent by now
    assert sum("重置密码" in str(m["Subject"]) for m in read_maildir(sink[2]) if m["To"] == email) == 3
