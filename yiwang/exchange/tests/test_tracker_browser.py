"""The data-use record's pages in Chromium with axe: the citizen reads their uses, opens one,
asks about it (and sees the form's error first); the data steward of 公安厅 opens the questions
and answers; an unverified account reads why it has no record. Every page must pass axe
(WCAG 2.2 AA tags of ``test_browser.AXE_TAGS``), in normal and large text mode.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

from __future__ import annotations

import pytest

from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations, browser  # noqa: F401 — a fixture

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
PASSWORD = "yiwang-demo-2026"


@pytest.fixture
def tab(browser):  # noqa: F811 — the imported fixture
    context = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    yield context.new_page()
    context.close()


@pytest.fixture
def tracker_site(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    from yiwang.exchange import tracker_demo
    from yiwang.identity import demo as identity_demo

    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        tracker_demo.build()


def sign_in(tab, base: str, username: str) -> None:
    tab.goto(base + "/login")
    tab.get_by_label("用户名").fill(username)
    tab.get_by_label("密码").fill(PASSWORD)
    tab.locator("main").get_by_role("button", name="登录").click()
    tab.wait_for_load_state()


def assert_accessible(tab, where: str) -> None:
    assert tab.locator("h1").count() == 1, where
    assert axe_violations(tab) == [], where
    tab.get_by_role("button", name="大字模式（适老化）").click()
    tab.wait_for_load_state()
    assert axe_violations(tab) == [], f"{where} (large text)"
    tab.get_by_role("button", name="大字模式（适老化）").click()
    tab.wait_for_load_state()


def test_the_citizen_reads_asks_and_the_steward_answers_with_every_page_accessible(
    live_server, tab, tracker_site
):
    from yiwang.exchange.models import CallLog, UseQuestion

    base = live_server.url
    sign_in(tab, base, "citizen")
    tab.goto(base + "/account")
    tab.get_by_role("link", name="查看我的数据使用记录").click()
    tab.wait_for_load_state()
    assert tab.url.endswith("/account/data-uses/")
    assert tab.locator("table tbody tr").count() == 3
    assert_accessible(tab, "uses")

    use = CallLog.objects.get(reference="demo-tracker-2")  # the social insurance use: no question yet
    tab.goto(f"{base}/account/data-uses/{use.pk}/")
    assert_accessible(tab, "one use")
    tab.get_by_role("button", name="发送问题").click()  # empty: the browser's own check stops it
    tab.locator("#id_question").evaluate("el => el.removeAttribute('required')")
    tab.get_by_role("button", name="发送问题").click()
    tab.wait_for_load_state()
    assert tab.locator(".error-summary").count() == 1
    assert_accessible(tab, "one use, question missing")
    tab.get_by_label("您的问题").fill("请说明这次使用我的社保信息的依据。")
    tab.get_by_role("button", name="发送问题").click()
    tab.wait_for_load_state()
    question = UseQuestion.objects.get(call=use)
    assert tab.get_by_text("请说明这次使用我的社保信息的依据。").count() == 1
    assert_accessible(tab, "one use, question asked")

    answered = CallLog.objects.get(reference="demo-tracker-1")
    tab.goto(f"{base}/account/data-uses/{answered.pk}/")
    assert tab.get_by_text("未作他用").count() == 1  # the steward's answer
    assert_accessible(tab, "one use with its answer")

    tab.context.clear_cookies()
    sign_in(tab, base, "gatsteward")
    tab.goto(base + "/workbench/data/questions/")
    assert_accessible(tab, "questions")
    waiting = UseQuestion.objects.filter(call__reference="demo-tracker-3").get()
    tab.goto(f"{base}/workbench/data/questions/{waiting.pk}/")
    assert_accessible(tab, "one question")
    tab.locator("#id_answer").fill("该次核验由个体工商户登记办件发起，已转请西安市市场监督管理局核查。")
    tab.get_by_role("button", name="发送答复").click()
    tab.wait_for_load_state()
    waiting.refresh_from_db()
    assert waiting.state == "answered"
    assert_accessible(tab, "one question, answered")
    # the question on the social insurance use went to 人社厅's stewards, not to 公安厅's
    assert tab.goto(f"{base}/workbench/data/questions/{question.pk}/").status == 404


def test_an_unverified_account_reads_why_it_has_no_record(live_server, tab, tracker_site):
    sign_in(tab, live_server.url, "newcomer")
    tab.goto(live_server.url + "/account/data-uses/")
    assert tab.get_by_role("link", name="核验我的身份").count() == 1
    assert_accessible(tab, "unverified")
