"""A whole call through the console in a real browser (Playwright driving Debian's chromium).

Run by tests/browser/test_console_journey.py as a child process: Playwright's sync API runs its own
event loop, which cannot share a process with the eventlet patches that the nameko pytest plugin
installs. Usage: journey.py <base-url> <data-dir> <screenshot-dir>. Prints one JSON line with what
it checked; exits non-zero (with the reason) when a step does not show what a person would expect.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("GONGYI_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct-horse-battery"
BEIJING = dt.timezone(dt.timedelta(hours=8))


class Journey:
    def __init__(self, base: str, data_dir: Path, shots: Path, browser: Browser) -> None:
        self.base, self.data_dir, self.shots, self.browser = base.rstrip("/"), data_dir, shots, browser
        self.checked: list[str] = []
        self.violations: list[dict] = []
        self.tag = uuid.uuid4().hex[:6]

    # -- helpers
    def context(self) -> BrowserContext:
        # bypass_csp: the console's CSP allows no inline script, and axe-core is injected as one
        ctx = self.browser.new_context(locale="zh-CN", bypass_csp=True, viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(30_000)
        return ctx

    def axe(self, page: Page, name: str) -> None:
        """axe-core on the page as it is now: serious or critical violations are collected."""
        if page.locator(".error[data-code=internal_error]").count():
            raise AssertionError(f"{name}: the console's error page at {page.url}")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        for v in result["violations"]:
            if v.get("impact") in ("serious", "critical"):
                self.violations.append({"page": name, "url": page.url, "id": v["id"], "impact": v["impact"],
                                        "help": v["help"], "nodes": [n["html"][:200] for n in v["nodes"][:3]]})
        self.checked.append(name)

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def mail_link(self, to: str, kind: str, timeout: float = 30.0) -> str:
        """The newest link of ``kind`` (confirm, invitation, reset) in the sink's mail to ``to``."""
        from gongyi.mailsink import read_maildir

        deadline = time.monotonic() + timeout
        pattern = re.compile(rf"https?://\S+/console/{kind}/\S+")
        while time.monotonic() < deadline:
            for msg in reversed(read_maildir(self.data_dir / "mail")):
                if msg["To"] == to:
                    found = pattern.search(msg.get_content())
                    if found:
                        return found.group(0)
            time.sleep(0.3)
        raise AssertionError(f"no {kind} mail to {to} within {timeout} s")

    def mails_to(self, to: str) -> list[str]:
        from gongyi.mailsink import read_maildir

        return [str(m["Subject"]) for m in read_maildir(self.data_dir / "mail") if m["To"] == to]

    def sign_in(self, page: Page, email: str, password: str = PASSWORD) -> None:
        page.goto(f"{self.base}/console/login")
        page.fill("#f-email", email)
        page.fill("#f-password", password)
        page.click("button[type=submit]:has-text('登录')")
        page.wait_for_load_state()

    def accept_invitation(self, page: Page, email: str) -> None:
        page.goto(self.mail_link(email, "invitation"))
        expect(page.locator("h1")).to_contain_text("接受邀请")
        self.axe(page, "invitation")
        page.fill("#f-password", PASSWORD)
        page.fill("#f-password2", PASSWORD)
        page.click("button:has-text('设置密码')")
        expect(page.locator(".flash")).to_contain_text("密码已设置")
        self.sign_in(page, email)

    def add_expert_and_assign(self, staff: Page, call_id: str, expert_id: str, email: str) -> None:
        staff.goto(f"{self.base}/console/staff/calls/{call_id}/experts")
        for field, value in {"expert_id": expert_id, "name": "王教授", "email": email,
                             "organisation": "某师范大学", "province": "湖北省"}.items():
            staff.fill(f"#f-{field}", value)
        staff.check("input[name=expertise][value=education]")
        staff.click("button:has-text('加入并邀请')")
        expect(staff.locator(".flash")).to_contain_text("专家已加入")
        staff.click("#auto-assign")
        expect(staff.locator(".flash")).to_contain_text("已自动分配")

    def wait_for_mail(self, to: str, subject_part: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(subject_part in s for s in self.mails_to(to)):
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail '{subject_part}' to {to}: {self.mails_to(to)}")
            time.sleep(0.5)

    def reload_until(self, page: Page, url: str, predicate, what: str, timeout: float = 60.0) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            page.goto(url)
            if predicate(page):
                return
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what} at {url}")

    # -- the journey
    def run(self) -> dict:
        b = self.base
        staff_email, unit_email = f"staff-{self.tag}@example.org", f"unit-{self.tag}@example.org"
        applicant_email, expert_email = f"applicant-{self.tag}@example.org", f"expert-{self.tag}@example.org"
        expert_id = f"e-{self.tag}"

        # the first staff account comes from the CLI, as ops would create it
        subprocess.run([sys.executable, "-m", "gongyi.cli", "console", "invite", "--role", "staff", "--email",
                        staff_email, "--name", "组织方工作人员"], check=True, capture_output=True,
                       env={**os.environ, "GONGYI_CONSOLE_BASE_URL": b})
        public = self.context().new_page()
        public.goto(f"{b}/console/")
        expect(public.locator("h1")).to_contain_text("网络公益项目征集平台")
        self.axe(public, "home")
        public.goto(f"{b}/console/login")
        self.axe(public, "login")

        staff = self.context().new_page()
        self.accept_invitation(staff, staff_email)
        expect(staff.locator("h1")).to_contain_text("征集活动")
        self.axe(staff, "staff home")
        # staff load a call document from a file: a new call; a broken one is refused with its issues
        import yaml

        doc = yaml.safe_load((REPO / "calls" / "2018-henan.yaml").read_text(encoding="utf-8"))
        doc["id"], doc["title"] = f"henan-copy-{self.tag}", "河南省网络公益项目报送（副本）"
        staff.set_input_files("#f-document", files=[{"name": "call.yaml", "mimeType": "text/yaml",
                                                      "buffer": yaml.safe_dump(doc, allow_unicode=True).encode()}])
        staff.click("#load-call button")
        expect(staff.locator(".flash")).to_contain_text("征集活动配置已加载")
        expect(staff.locator("h1")).to_contain_text("副本")
        expect(staff.locator("#call-rules")).to_contain_text("正能量")  # the criteria of the loaded rules
        staff.goto(f"{b}/console/staff/")
        broken = {**doc, "criteria": []}
        staff.set_input_files("#f-document", files=[{"name": "call.json", "mimeType": "application/json",
                                                      "buffer": json.dumps(broken, default=str).encode()}])
        staff.click("#load-call button")
        expect(staff.locator(".error")).to_be_visible()
        expect(staff.locator(".issues li").first).to_contain_text("criteria")
        self.axe(staff, "call document refused")
        staff.goto(f"{b}/console/staff/")
        staff.set_input_files("#f-document", files=[{"name": "list.yaml", "mimeType": "text/yaml",
                                                      "buffer": b"- just\n- a list\n"}])
        staff.click("#load-call button")
        expect(staff.locator(".error")).to_have_attribute("data-code", "invalid_call_document")
        # a rehearsal of the 2024 call: window open now, 公示 of half a minute, one project selected
        staff.goto(f"{b}/console/staff/calls/2024-national")
        self.axe(staff, "staff call")
        call_id = f"journey-{self.tag}"
        staff.fill("#f-new_id", call_id)
        staff.fill("#f-minutes", "0.5")
        staff.fill("#f-select_about", "1")
        staff.fill("#f-experts_per_project", "1")
        staff.click("button:has-text('创建演练')")
        expect(staff.locator("h1")).to_contain_text("演练")
        # staff invite the recommending unit's account
        staff.goto(f"{b}/console/staff/accounts")
        staff.select_option("#f-role", "unit")
        staff.fill("#f-email", unit_email)
        staff.fill("#f-name", "北京市委网信办")
        staff.fill("#f-unit_code", "cac-beijing")
        staff.click("button:has-text('发送邀请')")
        expect(staff.locator(".flash")).to_contain_text("邀请已发送")
        self.axe(staff, "staff accounts")

        unit = self.context().new_page()
        self.accept_invitation(unit, unit_email)

        # the applicant registers, confirms the e-mail, and fills a draft
        applicant = self.context().new_page()
        applicant.goto(f"{b}/console/register")
        self.axe(applicant, "register")
        for field, value in {"org_name": "北京阳光公益基金会", "org_code": "53110000500000007T", "name": "张三",
                             "email": applicant_email, "password": PASSWORD, "password2": PASSWORD}.items():
            applicant.fill(f"#f-{field}", value)
        applicant.click("button:has-text('注册')")
        expect(applicant.locator(".flash")).to_contain_text("注册成功")
        self.sign_in(applicant, applicant_email)
        expect(applicant.locator(".error")).to_contain_text("尚未激活")  # not before the e-mail is confirmed
        applicant.goto(self.mail_link(applicant_email, "confirm"))
        expect(applicant.locator(".flash")).to_contain_text("邮箱已确认")
        self.sign_in(applicant, applicant_email)
        expect(applicant.locator("h1")).to_contain_text("我的申报")
        applicant.select_option("#f-call", call_id)
        applicant.click("button:has-text('新建草稿')")
        expect(applicant.locator("#app-state")).to_contain_text("草稿")
        project = f"乡村留守儿童网络课堂{self.tag}"
        values = {"project_name": project, "started_on": "2021-03-01", "beneficiaries": "52000",
                  "applicant_name": "北京阳光公益基金会", "credit_code": "53110000500000007T", "province": "北京市",
                  "address": "北京市东城区", "contact_name": "张三", "contact_title": "项目主管",
                  "mobile": "13800138000", "email": "zhangsan@example.org", "approval_department": "北京市民政局",
                  "approval_no": "京民发〔2020〕12号", "website": "https://example.org"}
        for field, value in values.items():
            applicant.fill(f"#f-{field}", value)
        applicant.select_option("#f-category", "education")
        applicant.select_option("#f-unit_code", "cac-beijing")
        applicant.select_option("#f-applicant_type", "social_organisation")
        summary = "通过互联网直播课堂为乡村留守儿童提供优质教育资源。"
        applicant.fill("#f-summary", summary)
        applicant.fill("#f-implementation_results", "覆盖12个省份300所乡村学校，累计授课5000课时。")
        applicant.fill("#f-innovation", "双师课堂 模式\n可复制推广。")  # spaces and line breaks do not count
        expected = len(summary) + len("覆盖12个省份300所乡村学校，累计授课5000课时。") + len("双师课堂模式可复制推广。")
        expect(applicant.locator("#char-count")).to_have_text(str(expected))
        expect(applicant.locator("#autosave-status")).to_have_text("已自动保存", timeout=15_000)
        # evidence with the progress bar
        from gongyi.demo import samples

        applicant.set_input_files("#f-file", files=[{"name": "课堂.png", "mimeType": "image/png",
                                                      "buffer": samples.png(seed=7)}])
        applicant.click("#upload-form button")
        expect(applicant.locator("#upload-status")).to_contain_text("已上传", timeout=30_000)
        expect(applicant.locator("#upload-progress")).to_have_attribute("value", "100")
        self.axe(applicant, "applicant draft")
        self.shot(applicant, "applicant")
        applicant.reload()
        expect(applicant.locator("#f-project_name")).to_have_value(project)  # autosaved
        expect(applicant.locator("#image-count")).to_have_text("1")
        # CSRF: a form posted with a wrong token is refused and changes nothing
        applicant.evaluate("() => { document.querySelector('form.submit-box input[name=csrf]').value = 'forged'; }")
        applicant.click("#submit-application")
        expect(applicant.locator(".error")).to_have_attribute("data-code", "csrf_failed")
        self.axe(applicant, "refusal page")
        applicant.go_back()
        applicant.reload()
        expect(applicant.locator("#app-state")).to_contain_text("草稿")
        applicant.click("#submit-application")
        expect(applicant.locator("#app-state")).to_contain_text("已提交")
        app_url = applicant.url
        app_id = app_url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        # a role that tries another role's page
        applicant.goto(f"{b}/console/staff/")
        expect(applicant.locator(".error")).to_have_attribute("data-code", "wrong_role")
        applicant.goto(f"{b}/console/unit/applications/{app_id}")
        expect(applicant.locator(".error")).to_have_attribute("data-code", "wrong_role")

        # the unit vets and forwards
        unit.goto(f"{b}/console/unit/?state=submitted")
        expect(unit.locator("table")).to_contain_text(project)
        self.axe(unit, "unit queue")
        unit.click(f"text={project}")
        self.axe(unit, "unit vet")
        unit.fill("#f-reason", "请补充项目成效数据的来源。")  # first returned for revision
        unit.click("button:has-text('退回')")
        expect(unit.locator(".flash")).to_contain_text("已退回")
        applicant.goto(app_url.split("?")[0])
        expect(applicant.locator("#return-reason")).to_contain_text("请补充项目成效数据的来源")
        applicant.fill("#f-implementation_results",
                       "覆盖12个省份300所乡村学校，累计授课5000课时（数据来源：项目年报）。")
        applicant.click("button:has-text('保存草稿')")
        expect(applicant.locator(".flash")).to_contain_text("已保存")
        applicant.click("#submit-application")
        expect(applicant.locator("#app-state")).to_contain_text("已提交")
        unit.goto(f"{b}/console/unit/applications/{app_id}")
        unit.fill("#f-opinion", "同意推荐，材料真实。")
        unit.click("button:has-text('填写推荐意见')")
        expect(unit.locator(".flash")).to_contain_text("已填写推荐意见")
        unit.goto(f"{b}/console/unit/")
        unit.check(f"#pick-{app_id}")
        self.shot(unit, "unit")
        unit.click("#forward-batch")
        expect(unit.locator(".flash")).to_contain_text("已报送")

        # the same project again under another name (不得通过不同渠道重复申报): the duplicates
        # queue shows the two side by side with the reasons, and staff withdraw the copy
        copy_name = f"留守儿童双师网络课堂{self.tag}"
        applicant.goto(f"{b}/console/applicant/")
        applicant.select_option("#f-call", call_id)
        applicant.click("button:has-text('新建草稿')")
        expect(applicant.locator("#app-state")).to_contain_text("草稿")
        for field, value in {**values, "project_name": copy_name}.items():
            applicant.fill(f"#f-{field}", value)
        applicant.select_option("#f-category", "education")
        applicant.select_option("#f-unit_code", "cac-beijing")
        applicant.select_option("#f-applicant_type", "social_organisation")
        applicant.fill("#f-summary", summary)
        applicant.fill("#f-implementation_results",
                       "覆盖12个省份300所乡村学校，累计授课5000课时（数据来源：项目年报）。")
        applicant.fill("#f-innovation", "双师课堂模式可复制推广。")
        applicant.set_input_files("#f-file", files=[{"name": "课堂照片.png", "mimeType": "image/png",
                                                      "buffer": samples.png(seed=7)}])
        applicant.click("#upload-form button")
        expect(applicant.locator("#upload-status")).to_contain_text("已上传", timeout=30_000)
        expect(applicant.locator("#autosave-status")).to_have_text("已自动保存", timeout=15_000)
        applicant.click("#submit-application")
        expect(applicant.locator("#app-state")).to_contain_text("已提交")
        copy_url = applicant.url.split("?")[0]
        copy_id = copy_url.rstrip("/").rsplit("/", 1)[-1]
        unit.goto(f"{b}/console/unit/applications/{copy_id}")
        unit.fill("#f-opinion", "同意推荐。")
        unit.click("button:has-text('填写推荐意见')")
        expect(unit.locator(".flash")).to_contain_text("已填写推荐意见")
        unit.goto(f"{b}/console/unit/")
        unit.check(f"#pick-{copy_id}")
        unit.click("#forward-batch")
        expect(unit.locator(".flash")).to_contain_text("已报送")
        self.reload_until(staff, f"{b}/console/staff/duplicates", lambda p: copy_id in p.content(),
                          "the suspected duplicate in the staff queue", timeout=90)
        self.axe(staff, "staff duplicates")
        staff.click(f"a[href*='/console/staff/duplicates/']:has-text('{copy_id}')")
        cards = staff.locator(".cards .card")
        expect(cards).to_have_count(2)
        expect(staff.locator(".cards")).to_contain_text(project)
        expect(staff.locator(".cards")).to_contain_text(copy_name)
        expect(staff.locator("h2 + ul li").first).to_be_visible()  # the reasons
        self.axe(staff, "staff duplicate side by side")
        self.shot(staff, "staff-duplicate")
        # the ranked queue of the original: the copy on top, flagged, with its reasons
        staff.click(f"a[href$='/staff/projects/{app_id}/similar']")
        expect(staff.locator("#similar tbody tr").first).to_contain_text(copy_name)
        expect(staff.locator("#similar tbody tr").first).to_contain_text("疑似重复")
        self.axe(staff, "staff similar projects")
        staff.go_back()
        staff.select_option("#f-outcome", "same_project")
        staff.select_option("#f-keep", app_id)
        staff.select_option("#f-action", "withdrawn")
        staff.fill("#f-note", "同一项目经同一单位重复报送，保留先报送的一份。")
        staff.click("button:has-text('处理')")
        expect(staff.locator(".notice")).to_contain_text("已处理")
        self.reload_until(applicant, copy_url, lambda p: "撤回" in p.locator("#app-state").inner_text(),
                          "the copy withdrawn in intake")

        # staff screen, add the expert, assign
        screening = f"{b}/console/staff/calls/{call_id}/screening"
        self.reload_until(staff, screening, lambda p: project in p.content() and "评审服务尚未收到" not in p.content(),
                          "review to hold the forwarded project")
        self.axe(staff, "staff screening")
        staff.click("#record-screening")
        expect(staff.locator(".flash")).to_contain_text("初审结果已记录")
        # one expert at a time, so each assignment is certain: the first declines, the second
        # declares a conflict, the third scores
        for other, how in (("decliner", "decline"), ("conflicted", "conflict")):
            other_email = f"{other}-{self.tag}@example.org"
            self.add_expert_and_assign(staff, call_id, f"{other[:4]}-{self.tag}", other_email)
            page = self.context().new_page()
            self.accept_invitation(page, other_email)
            self.reload_until(page, f"{b}/console/expert/", lambda p: p.locator(f"a[href$='{app_id}']").count() > 0,
                              f"the project in the {other} expert's list")
            page.click(f"a[href$='{app_id}']")
            if how == "decline":
                page.fill("#f-decline", "近期出差，无法按时完成评审。")
                page.click("button:has-text('谢绝')")
                expect(page.locator(".flash")).to_contain_text("已谢绝评审")
            else:
                page.fill("#f-conflict", "本人曾担任该基金会顾问。")
                page.click("button:has-text('申报回避')")
                expect(page.locator(".flash")).to_contain_text("已申报回避")
            self.axe(page, f"expert after {how}")
            expect(page.locator(f"a[href$='{app_id}']")).to_have_count(0)  # the seat is gone
            page.goto(f"{b}/console/expert/projects/{app_id}")  # and the project with it
            expect(page.locator(".error")).to_be_visible()
            page.close()
        self.add_expert_and_assign(staff, call_id, expert_id, expert_email)
        self.axe(staff, "staff experts")
        # staff set the review deadline (tomorrow; reminders from 3 days before: at once)
        staff.goto(f"{b}/console/staff/calls/{call_id}")
        tomorrow = dt.datetime.now(BEIJING) + dt.timedelta(days=1)
        staff.fill("#f-review_due", tomorrow.strftime("%Y-%m-%dT%H:%M"))
        staff.fill("#f-review_remind_days_before", "3")
        staff.click("button:has-text('保存截止时间')")
        expect(staff.locator(".flash")).to_contain_text("截止时间已更新")
        expect(staff.locator(".facts")).to_contain_text("提前 3 天提醒")
        expect(staff.locator("#f-review_due")).to_have_value(tomorrow.strftime("%Y-%m-%dT%H:%M"))  # kept on save

        # the expert is reminded by e-mail, then scores the six criteria
        self.wait_for_mail(expert_email, "评审即将截止")
        expert = self.context().new_page()
        self.accept_invitation(expert, expert_email)
        self.reload_until(expert, f"{b}/console/expert/", lambda p: p.locator(f"a[href$='{app_id}']").count() > 0,
                          "the assigned project in the expert's list")
        self.axe(expert, "expert tasks")
        expert.click(f"a[href$='{app_id}']")
        expect(expert.locator("body")).not_to_contain_text("13800138000")  # the blind view
        for i, box in enumerate(expert.locator("input[name^=score_]").all()):
            box.fill(str(8 + i % 2))
        expert.fill("#f-comments", "材料翔实，成效明显。")
        self.axe(expert, "expert scoring")
        self.shot(expert, "expert")
        expert.click("#submit-review")
        expect(expert.locator("#review-done")).to_be_visible()

        # staff rank, confirm, open the 公示
        staff.goto(f"{b}/console/staff/calls/{call_id}/ranking")
        expect(staff.locator("table")).to_contain_text(project)
        staff.click("#propose")
        expect(staff.locator("#proposal")).to_contain_text(project)
        self.axe(staff, "staff ranking")
        staff.fill("#f-reserves", "0")
        staff.click("#confirm-selection")
        expect(staff.locator(".flash")).to_contain_text("入选名单已确认")
        self.reload_until(staff, f"{b}/console/staff/calls/{call_id}",
                          lambda p: p.locator("a[href*='/console/staff/notices/']").count() > 0, "the notice draft")
        staff.click("a[href*='/console/staff/notices/']")
        notice_url = staff.url
        notice_url = notice_url.split("?")[0]
        notice_id = notice_url.rsplit("/", 1)[-1]
        staff.click("#notice-open")
        expect(staff.locator("#notice-state")).to_have_attribute("data-state", "open")
        self.axe(staff, "staff notice")

        # the public objects during the 公示
        public.goto(f"{b}/console/public/notices/{notice_id}")
        expect(public.locator("table")).to_contain_text(project)
        self.axe(public, "public notice")
        public.click("#objection-link")
        public.fill("#f-name", "李四")
        public.fill("#f-contact", "13900001111")
        public.fill("#f-relation", "项目所在社区居民")
        public.fill("#f-reason", "该项目公布的受益人数与实际情况不符，请核实。")
        self.axe(public, "objection form")
        public.click("button:has-text('提交异议')")
        code = public.locator("#tracking-code").inner_text()
        staff.goto(notice_url)
        expect(staff.locator("body")).to_contain_text(code)
        staff.select_option("select[name=outcome]", "dismissed")
        staff.fill("input[name=note_zh]", "经核查，受益人数有项目年报为证，异议不成立。")
        staff.click("button:has-text('答复')")
        expect(staff.locator(".flash")).to_contain_text("异议已处理")
        public.goto(f"{b}/console/public/objections?code={code}")
        expect(public.locator("#objection-status")).to_have_text("异议不成立")
        self.axe(public, "objection status")

        # the period ends; staff close and publish; the public sees the final list
        deadline = time.monotonic() + 90
        while True:
            staff.goto(notice_url)
            staff.click("#notice-close")
            state = staff.locator("#notice-state")
            if state.count() and state.get_attribute("data-state") == "closed":
                break
            if time.monotonic() > deadline:
                raise AssertionError("the notice could not be closed after its period")
            time.sleep(3)
        staff.click("#notice-publish")
        expect(staff.locator("#notice-state")).to_have_attribute("data-state", "published")
        expect(staff.locator("a[href$='final-list/export.xlsx']")).to_be_visible()
        public.goto(f"{b}/console/public/notices/{notice_id}")
        expect(public.locator("caption")).to_have_text("入选名单")
        self.axe(public, "public final list")
        self.shot(public, "public")
        public.set_viewport_size({"width": 390, "height": 844})  # a phone
        self.axe(public, "public final list on a phone")
        self.shot(public, "public-phone")
        assert public.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1, "no sideways scrolling"
        public.set_viewport_size({"width": 1280, "height": 900})
        public.click(f"text={project}")  # publish's own project page (a Jinja template too)
        expect(public.locator("h1")).to_have_text(project)
        self.axe(public, "publish project page")
        public.goto(f"{b}/api/publish/notices/{notice_id}/final.html")
        expect(public.locator("h1")).to_contain_text("演练")
        self.axe(public, "publish final list page")

        # staff set a tracking-report deadline; the team and its unit are reminded by e-mail
        staff.goto(f"{b}/console/staff/calls/{call_id}")
        staff.fill("#f-review_due", "")
        staff.fill("#f-report_due", (dt.datetime.now(BEIJING) + dt.timedelta(days=3)).strftime("%Y-%m-%d"))
        staff.click("button:has-text('保存截止时间')")
        expect(staff.locator(".flash")).to_contain_text("截止时间已更新")
        expect(staff.locator(".facts")).to_contain_text("提醒未报送的入选项目")
        self.wait_for_mail(applicant_email, "跟踪报告即将截止")
        self.wait_for_mail(unit_email, "推荐项目的跟踪报告即将截止")

        # the selected project's team reports; its unit confirms; staff accept
        applicant.goto(f"{b}/console/applicant/reports")
        applicant.fill("#f-title", "网络课堂一年间")
        applicant.fill("#f-body", "项目新增覆盖50所乡村学校，开展教师线上培训20场。")
        applicant.click("button:has-text('报送')")
        expect(applicant.locator("table")).to_contain_text("网络课堂一年间")
        self.axe(applicant, "applicant reports")
        unit.goto(f"{b}/console/unit/reports")
        unit.click("button:has-text('确认')")
        expect(unit.locator(".flash")).to_be_visible()
        self.axe(unit, "unit reports")
        staff.goto(f"{b}/console/staff/reports")
        staff.click("button:has-text('采用')")
        expect(staff.locator("table")).to_contain_text("accepted")
        self.axe(staff, "staff reports")
        # staff's other pages: search with facets, the duplicates queue, the call's phases with counts
        staff.goto(f"{b}/console/staff/search?q=留守儿童&call_id={call_id}")
        expect(staff.locator(".results mark").first).to_have_text("留守儿童")  # the highlight
        staff.click("a:has-text('cac-beijing')")  # a facet narrows the search
        expect(staff.locator(".results")).to_contain_text(project)
        self.axe(staff, "staff search")
        staff.goto(f"{b}/console/staff/calls/{call_id}")
        expect(staff.locator(".phases li[data-state=forwarded] strong")).to_have_text("1")
        self.shot(staff, "staff")

        # notifications: on the console and by e-mail
        applicant.goto(f"{b}/console/notifications")
        expect(applicant.locator(".notes")).to_contain_text("申报已提交")
        expect(applicant.locator(".notes")).to_contain_text("申报已报送")
        expect(applicant.locator(".notes")).to_contain_text("申报被退回修改")
        self.axe(applicant, "notifications")
        deadline = time.monotonic() + 30
        while not any("拟入选" in s for s in self.mails_to(applicant_email)):
            if time.monotonic() > deadline:
                raise AssertionError(f"no 'selected' mail: {self.mails_to(applicant_email)}")
            time.sleep(0.5)
        unit_mail = self.mails_to(unit_email)
        assert any("待审核" in s for s in unit_mail), unit_mail
        assert any("评审任务" in s for s in self.mails_to(expert_email)), self.mails_to(expert_email)

        # a session that has been idle too long ends: the next page asks to sign in again
        db = sqlite3.connect(self.data_dir / "console.db")
        with db:
            db.execute("UPDATE sessions SET last_seen_at = '2000-01-01 00:00:00.000000' WHERE account_id = "
                       "(SELECT id FROM accounts WHERE email = ?)", (unit_email,))
        db.close()
        unit.goto(f"{b}/console/unit/")
        expect(unit.locator(".notice")).to_contain_text("登录已过期")
        assert "/console/login" in unit.url, unit.url
        return {"pages_checked": len(self.checked), "pages": self.checked, "violations": self.violations,
                "call_id": call_id, "notice_id": notice_id, "application_id": app_id}


def main() -> int:
    base, data_dir, shots = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        journey = Journey(base, data_dir, shots, browser)
        try:
            result = journey.run()
        except Exception as exc:  # the reason, and where the pages were, for the test's message
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:3000], "pages": journey.checked},
                             ensure_ascii=False))
            return 1
        finally:
            browser.close()
    print(json.dumps(result, ensure_ascii=False))
    return 0 if not result["violations"] else 2


if __name__ == "__main__":
    sys.exit(main())
