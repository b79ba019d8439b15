"""The verify page and the department pages in Chromium: axe-clean in normal and large-text mode,
usable at 390 px, the verdict's claim labels in the reader's language.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

import pytest
from django.test import Client

from yiwang.conftest import force_sign_in
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations, browser  # noqa: F401 — a fixture
from yiwang.licences import services

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
# (viewport width, large-text mode): a desktop in both modes and a phone.
SCREENS = ((1280, False), (1280, True), (390, False))
LANGUAGES = {"zh-hans": ("zh-CN", "zh-CN,zh;q=0.9"), "en": ("en-GB", "en-GB,en;q=0.9")}


@pytest.fixture
def audit_key(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"


def _tab(browser, live_server, width: int, care: bool, *, user=None, language: str = "zh-hans"):  # noqa: F811
    """A new tab ``width`` px wide, signed in as ``user`` (second factor passed), in large-text
    mode when ``care``; on the home page."""
    locale, accept = LANGUAGES[language]
    context = browser.new_context(
        viewport={"width": width, "height": 844},
        locale=locale,
        extra_http_headers={"Accept-Language": accept},
    )
    page = context.new_page()
    if user is not None:
        session = force_sign_in(Client(), user).cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.goto(live_server.url + "/")
    if care:
        page.locator("header form[action='/preferences/care-mode'] button").click()
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.classList.contains('care')")
    return page


def fits(page, width: int) -> bool:
    """Nothing sticks out sideways: the page scrolls no wider than the screen."""
    return page.evaluate("document.scrollingElement.scrollWidth") <= width


def _verify(page, base: str, text: str) -> None:
    page.goto(base + "/verify/")
    page.locator("textarea[name=credential]").fill(text)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def test_the_verify_page_passes_axe_and_fits_a_phone_with_each_verdict(
    browser,  # noqa: F811
    live_server,
    audit_key,
    dog_licence,
    business_licence,
    citizen,
):
    valid = services.licence_present(licence=dog_licence, disclose=["owner", "dog"], actor=citizen)
    revoked = services.licence_present(licence=business_licence, disclose=["business_scope"], actor="t")
    services.licence_revoke(licence=business_licence, actor="system:test", reason="吊销测试")
    problems = {}
    for width, care in SCREENS:
        page = _tab(browser, live_server, width, care)
        try:
            found = []
            page.goto(live_server.url + "/verify/")
            found += axe_violations(page)
            assert fits(page, width)
            for text, heading in (
                (valid, "✓ 有效"),
                (revoked, "✗ 已吊销/注销"),
                ("不是证照", "✗ 不是电子证照"),
            ):
                _verify(page, live_server.url, text)
                assert page.get_by_role("heading", name=heading).is_visible(), heading
                found += axe_violations(page)
                if not fits(page, width):
                    found.append(f"wider than {width} px: {heading}")
            assert citizen.person.name not in page.content()  # the last verdict shows no one's data
            if found:
                problems[(width, care)] = found
        finally:
            page.context.close()
    assert problems == {}


@pytest.mark.parametrize(
    ("language", "labels", "other"),
    [("zh-hans", ["犬主姓名", "犬只信息"], "Owner"), ("en", ["Owner", "The dog"], "犬主姓名")],
)
def test_the_verdict_names_the_claims_in_the_readers_language(
    browser,  # noqa: F811
    live_server,
    audit_key,
    dog_licence,
    citizen,
    language,
    labels,
    other,
):
    text = services.licence_present(licence=dog_licence, disclose=["owner", "dog"], actor=citizen)
    page = _tab(browser, live_server, 1280, False, language=language)
    try:
        _verify(page, live_server.url, text)
        terms = page.locator("main .verdict dl dt").all_inner_texts()
        assert set(labels) <= set(terms), terms
        assert other not in terms
        assert axe_violations(page) == []
    finally:
        page.context.close()


def test_the_department_pages_pass_axe_and_fit_a_phone(
    browser,  # noqa: F811
    live_server,
    audit_key,
    business_licence,
    approver_x,
    dept_admin,
    superuser,
):
    pages = {
        approver_x: [
            "/workbench/licences/",
            f"/workbench/licences/{business_licence.pk}/",
            "/workbench/licences/issue/",
            "/workbench/licences/issue/?type=business-licence",
        ],
        dept_admin: ["/workbench/licences/keys/"],
        superuser: ["/workbench/licences/trusted-issuers/", f"/workbench/licences/{business_licence.pk}/"],
    }
    problems = {}
    for width, care in SCREENS:
        for user, paths in pages.items():
            page = _tab(browser, live_server, width, care, user=user)
            try:
                for path in paths:
                    response = page.goto(live_server.url + path)
                    assert response.status == 200 and page.url.endswith(path), (path, page.url)
                    found = axe_violations(page)
                    if not fits(page, width):
                        found.append(f"wider than {width} px")
                    if found:
                        problems[(width, care, user.username, path)] = found
            finally:
                page.context.close()
    assert problems == {}
