"""One case from search to approval in a real browser (Debian's Chromium driven by Playwright):
a citizen finds the service, applies and submits; an official accepts, reviews, approves and
completes it on the workbench; the citizen sees it completed and rates it. The applicant's form
(with its error summary), the case page, the workbench and the task page are checked with
axe-core (WCAG 2.0/2.1/2.2 A and AA).

Browser, page and axe set-up come from the core browser tests; skipped without Chromium unless
YIWANG_REQUIRE_BROWSER=1 (then their import fails loudly)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext

from yiwang.applications.models import Case, Rating, Task
from yiwang.conftest import PERSONA_PASSWORD
from yiwang.core.tests import test_browser as core
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations

from .conftest import PDF

browser, page = core.browser, core.page  # the core browser tests' fixtures: one Chromium per module

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def zh(message) -> str:
    """The text the zh-CN browser sees for an English msgid (or a lazy label)."""
    with translation.override("zh-hans"):
        return gettext(message) if isinstance(message, str) else str(message)


def sign_in(tab, base: str, username: str) -> None:
    """The real sign-in page, as a person would use it."""
    tab.goto(base + "/login")
    tab.locator("input[name=username]").fill(username)
    tab.locator("input[name=password]").fill(PERSONA_PASSWORD)
    tab.locator("main form button[type=submit]").click()
    tab.wait_for_load_state()
    assert "/login" not in tab.url, tab.locator("main").inner_text()


def decide(tab, base: str, queue: str, number: str, decision: str) -> None:
    """Open the case's task from a workbench queue and take ``decision`` on it."""
    tab.goto(f"{base}/workbench/?queue={queue}")
    tab.locator("main table a", has_text=number).click()
    tab.locator(f"input[name=decision][value={decision}]").check()
    tab.locator("form:has(input[name=op][value=act]) button[type=submit]").click()
    tab.wait_for_url(f"{base}/workbench/")


def test_a_case_goes_from_search_to_approval_through_the_pages(
    live_server, browser, page, item, applicant_material, citizen, official_x, reviewer_x, approver_x
):
    base = live_server.url
    problems: dict[str, list[str]] = {}

    # The citizen signs in, finds the service and opens its guide.
    sign_in(page, base, "citizen")
    page.goto(base + "/services/")
    page.locator("main input[name=q]").fill("食品经营许可")
    page.locator("main form[role=search] > button[type=submit]").click()
    page.locator("main .result-list a", has_text="食品经营许可").first.click()
    page.wait_for_url(re.compile(r"/services/items/"))

    # 在线申请 → start an application, pre-filled by the government.
    page.locator(f'main a[href="/apply/{item.code}/"]').click()
    page.wait_for_url(f"{base}/apply/{item.code}/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/cases/draft-\d+/edit/$"))
    main = page.locator("main")
    masked = citizen.person.id_number_masked
    assert "张三" in main.inner_text() and masked in main.inner_text()
    assert "*" in masked and page.locator("input[name=id_number]").count() == 0

    # Submitting the empty form shows the error summary, linked to the fields.
    page.locator("button[name=submit]").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible() and summary.locator('a[href="#f-address"]').count() == 1
    assert page.locator("#f-phone").input_value() == citizen.person.phone  # from the account
    problems["apply form with errors"] = axe_violations(page)

    # Fill in, save, upload the application letter, see the pre-review clear, submit.
    page.locator("#f-phone").fill("13912345678")
    page.locator("#f-address").fill("西安市新城区解放路1号")
    page.locator("#f-purpose").fill("开办餐馆")
    page.locator(".actions button[name=save]").click()
    page.wait_for_load_state()
    page.locator("select[name=material]").select_option(str(applicant_material.pk))
    page.locator("input[name=file]").set_input_files(
        {"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator("button[formaction$='/materials/']").click()
    page.wait_for_load_state()
    assert page.locator("p.ok").inner_text() == zh("Everything needed is here. You can submit.")
    page.locator("button[name=submit]").click()
    page.wait_for_url(re.compile(r"/cases/610100-\d{8}-\d{6}/(#.*)?$"))  # the #materials fragment stays
    case = Case.objects.get(applicant=citizen)
    assert case.status == Case.Status.SUBMITTED and case.number in page.locator("main").inner_text()
    assert page.locator("main ol.timeline li").count() >= 1
    problems["case page"] = axe_violations(page)

    # An official signs in, opens the workbench and the task, claims it and accepts.
    official = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    desk = official.new_page()
    sign_in(desk, base, "official_x")
    desk.goto(base + "/workbench/")
    problems["workbench"] = axe_violations(desk)
    desk.locator("main table a", has_text=case.number).click()
    desk.wait_for_url(re.compile(r"/workbench/tasks/\d+/$"))
    problems["task page"] = axe_violations(desk)
    desk.locator("button[name=op][value=claim]").click()
    desk.wait_for_load_state()
    assert Task.objects.get(case=case, state=Task.State.OPEN).claimed_by == official_x
    desk.locator("input[name=decision][value=accept]").check()
    desk.locator("form:has(input[name=op][value=act]) button[type=submit]").click()
    desk.wait_for_url(f"{base}/workbench/")
    # 四眼原则: having accepted, official_x (who holds every role) may not review it too.
    desk.goto(f"{base}/workbench/?queue=review")
    desk.locator("main table a", has_text=case.number).click()
    desk.wait_for_url(re.compile(r"/workbench/tasks/\d+/$"))
    assert desk.locator("main p.notice-box[role=status]").count() == 1
    assert desk.locator("input[name=decision]").count() == 0
    for username, queue, decision in (("reviewer_x", "review", "pass"), ("approver_x", "approve", "approve")):
        colleague = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
        tab = colleague.new_page()
        sign_in(tab, base, username)
        decide(tab, base, queue, case.number, decision)
        colleague.close()
    decide(desk, base, "accept", case.number, "complete")  # handing out the result: acceptance's duty
    official.close()

    # The citizen sees the case completed and rates it.
    page.goto(f"{base}/cases/{case.number}/")
    assert zh(Case.Status.COMPLETED.label) in page.locator("main dl").inner_text()
    page.locator("input[name=level][value='5']").check()
    page.locator(f"form[action='/cases/{case.number}/rate/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert Rating.objects.get(case=case).level == 5
    assert page.locator("input[name=level]").count() == 0

    assert {where: found for where, found in problems.items() if found} == {}


def test_in_english_a_notice_and_a_step_name_read_in_english(live_server, browser, submitted, citizen, crew):
    # Issue 9 §6: notices were stored as rendered Chinese text and BPMN step names shown as drawn.
    from .conftest import walk

    walk(submitted, crew, "accept")
    context = browser.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en"})
    tab = context.new_page()
    try:
        sign_in(tab, live_server.url, "citizen")
        tab.goto(live_server.url + "/notices/")
        notices = tab.locator("main").inner_text()
        assert f"Application {submitted.number}: Under review" in notices
        assert f"Application {submitted.number} received" in notices
        tab.goto(f"{live_server.url}/cases/{submitted.number}/")
        timeline = tab.locator("main ol.timeline").inner_text()
        assert "Accept: Accept (受理)" in timeline  # the step in English, then the decision's label
        assert "Yiwang · Government Services" in tab.locator("header").inner_text()
        assert axe_violations(tab) == []
    finally:
        context.close()


def test_the_process_versions_pages_pass_axe(live_server, page, item, dept_admin):
    """A department admin's versions list and a version page (with its rollback button and, after
    a refused rollback, the list of problems) are accessible."""
    from django.test import Client

    from yiwang.applications import engine, services
    from yiwang.conftest import force_sign_in

    from .test_model_verification import amount_schema, diagram

    services.form_attach(actor=dept_admin, item=item, schema=amount_schema())
    services.process_attach(actor=dept_admin, item=item, bpmn=diagram("camunda7_review.bpmn"))
    services.process_attach(
        actor=dept_admin, item=item, bpmn=(engine.PROCESSES_DIR / "default.bpmn").read_text()
    )
    client = force_sign_in(Client(), dept_admin)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/workbench/processes/{item.code}/")
    assert page.locator("main table a", has_text="1").count() >= 1
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/workbench/processes/{item.code}/v1/")
    page.locator("main details summary").first.click()
    assert "Task_review" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    services.form_attach(actor=dept_admin, item=item, schema=services.schemaforms.DEFAULT_SCHEMA)
    page.locator("main form button[type=submit]").click()  # roll back: refused, v1 reads "amount"
    page.wait_for_load_state()
    assert "amount" in page.locator(".error-summary").inner_text()
    assert axe_violations(page) == []
