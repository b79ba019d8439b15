"""The verify page and the department pages in Chromium: axe-clean in both modes, usable at 390 px.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

import pytest

from yiwang.conftest import PERSONA_PASSWORD
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations, browser  # noqa: F401 — a fixture
from yiwang.licences import services

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def audit_key(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"


def test_the_verify_page_passes_axe_and_fits_a_phone(browser, live_server, audit_key, dog_licence, citizen):  # noqa: F811
    text = services.licence_present(licence=dog_licence, disclose=["owner", "dog"], actor=citizen)
    problems = {}
    for width, care in ((1280, False), (1280, True), (390, False)):
        context = browser.new_context(
            viewport={"width": width, "height": 844},
            locale="zh-CN",
            extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        )
        page = context.new_page()
        try:
            page.goto(live_server.url + "/verify/")
            if care:
                page.get_by_role("button", name="大字模式（适老化）").click()
            found = axe_violations(page)
            page.get_by_label("电子证照或亮证内容").fill(text)
            page.locator("main").get_by_role("button", name="核验").click()
            assert page.get_by_role("heading", name="✓ 有效").is_visible()
            assert page.get_by_text(citizen.person.name).is_visible()
            found += axe_violations(page)
            if width == 390:
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
            if found:
                problems[(width, care)] = found
        finally:
            context.close()
    assert problems == {}


def test_the_department_pages_pass_axe(browser, live_server, audit_key, business_licence, approver_x):  # noqa: F811
    context = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/login")
        page.get_by_label("用户名").fill("approver_x")
        page.get_by_label("密码").fill(PERSONA_PASSWORD)
        page.locator("main").get_by_role("button", name="登录").click()
        problems = {}
        for path in (
            "/workbench/licences/",
            f"/workbench/licences/{business_licence.pk}/",
            "/workbench/licences/issue/",
            "/workbench/licences/issue/?type=business-licence",
        ):
            page.goto(live_server.url + path)
            assert page.url.endswith(path), page.url
            found = axe_violations(page)
            if found:
                problems[path] = found
        assert problems == {}
    finally:
        context.close()
