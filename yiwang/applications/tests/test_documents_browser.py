"""The applicant's side of a decided case in Chromium: the case page with its sealed decision and
the delivery choice pass axe in both modes and fit a 390 px phone; choosing post saves it.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

import pytest

from yiwang.applications.models import ResultDelivery
from yiwang.applications.tests.conftest import act
from yiwang.conftest import PERSONA_PASSWORD
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations, browser  # noqa: F401 — a fixture

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def completed(submitted, crew, settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    case = act(submitted, crew["clerk"], "accept")
    case = act(case, crew["reviewer"], "pass")
    case = act(case, crew["approver"], "approve")
    return act(case, crew["clerk"], "complete")


def test_the_case_page_and_the_delivery_choice_pass_axe_and_fit_a_phone(browser, live_server, completed):  # noqa: F811
    problems = {}
    for width, care in ((1280, False), (1280, True), (390, False)):
        context = browser.new_context(
            viewport={"width": width, "height": 844},
            locale="zh-CN",
            extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        )
        page = context.new_page()
        try:
            page.goto(live_server.url + "/login")
            page.get_by_label("用户名").fill("citizen")
            page.get_by_label("密码").fill(PERSONA_PASSWORD)
            page.locator("main").get_by_role("button", name="登录").click()
            if care:
                page.get_by_role("button", name="大字模式（适老化）").click()
            found = []
            for path in (f"/cases/{completed.number}/", f"/cases/{completed.number}/delivery/"):
                page.goto(live_server.url + path)
                assert page.url.endswith(path), page.url
                found += axe_violations(page)
                if width == 390:
                    assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            if found:
                problems[(width, care)] = found
        finally:
            context.close()
    assert problems == {}


def test_choosing_post_in_the_browser_saves_it(browser, live_server, completed):  # noqa: F811
    context = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/login")
        page.get_by_label("用户名").fill("citizen")
        page.get_by_label("密码").fill(PERSONA_PASSWORD)
        page.locator("main").get_by_role("button", name="登录").click()
        page.goto(live_server.url + f"/cases/{completed.number}/delivery/")
        page.check("input[name=method][value=post]")
        page.fill("input[name=recipient]", "张三")
        page.fill("input[name=phone]", "13912345678")
        page.fill("input[name=address]", "西安市新城区解放路1号")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert axe_violations(page) == []  # the page it lands on, with its message
    finally:
        context.close()
    chosen = ResultDelivery.objects.get(case=completed)
    assert (chosen.method, chosen.address) == ("post", "西安市新城区解放路1号")
