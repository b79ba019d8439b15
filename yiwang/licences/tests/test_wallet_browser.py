"""The wallet's pages in a real browser (Debian's Chromium, Playwright, axe-core): the wallet, a
licence (masked and revealed), 亮证 and its QR code, the QR link opened in a browser, and 免证办
on the application form and the official's task; in normal and large-text mode, and at 390 px.

Browser, page and axe set-up come from the core browser tests; skipped without Chromium unless
YIWANG_REQUIRE_BROWSER=1."""

from __future__ import annotations

import pytest
from django.test import Client

from yiwang.applications import licence_materials
from yiwang.applications import services as case_services
from yiwang.applications.tests.conftest import VALID_DATA, open_task, pdf_upload
from yiwang.catalog.models import Material, ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.conftest import force_sign_in, make_official
from yiwang.core.tests import test_browser as core
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations
from yiwang.identity.models import Role
from yiwang.licences import presentations, services

browser, page = core.browser, core.page

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def _signed_in(tab, live_server, user) -> None:
    client = force_sign_in(Client(), user)
    tab.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.fixture
def holding(types, citizen, department_gat, department_x):
    """张三 with a dog licence, his identity credential and an individual business licence that a
    stall item accepts instead of an upload; a draft of that item with the licence used."""
    dog = services.licence_issue(
        licence_type=types["dog-registration"],
        holder=citizen.person,
        department=department_gat,
        claims={"dog": "中华田园犬，黄色", "keeping_address": "西安市雁塔区演示路8号"},
        actor="system:test",
    )
    services.licence_issue(
        licence_type=types["resident-identity"],
        holder=citizen.person,
        department=department_gat,
        claims={},
        actor="t",
    )
    business = services.licence_issue(
        licence_type=types["individual-business-licence"],
        holder=citizen.person,
        department=department_x,
        claims={"business_address": "西安市雁塔区演示路8号", "business_scope": "日用百货"},
        actor="t",
    )
    item = make_item(
        code="610100-SCJG-XK-0009",
        name="便民摊点登记",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        promised_limit_days=5,
        statutory_limit_days=10,
        materials=[
            {"name": "申请书", "source": Material.Source.APPLICANT},
            {
                "name": "个体工商户营业执照",
                "source": Material.Source.APPLICANT,
                "licence_replaceable": True,
                "licence_type": "个体工商户营业执照",
            },
        ],
    )
    case = case_services.case_start(actor=citizen, item=item)
    case_services.case_save(actor=citizen, case=case, data=VALID_DATA)
    materials = {m.name: m for m in item.materials.all()}
    case_services.attachment_add(
        actor=citizen, case=case, material_id=materials["申请书"].pk, upload=pdf_upload()
    )
    return {"dog": dog, "business": business, "case": case, "material": materials["个体工商户营业执照"]}


def test_the_wallet_pages_pass_axe_in_normal_and_large_text_mode(live_server, page, citizen, holding):
    _signed_in(page, live_server, citizen)
    dog = holding["dog"]
    problems = {}
    for care in (False, True):
        if care:
            page.goto(live_server.url + "/wallet/")
            page.get_by_role("button", name="大字模式（适老化）").click()
        page.goto(f"{live_server.url}/wallet/")
        problems[(care, "wallet")] = axe_violations(page)
        page.goto(f"{live_server.url}/wallet/{dog.pk}/")
        problems[(care, "licence")] = axe_violations(page)
        page.get_by_role("button", name="显示完整个人信息").click()
        page.wait_for_load_state()
        assert "西安市雁塔区演示路8号" in page.locator("main").inner_text()
        problems[(care, "revealed")] = axe_violations(page)
        page.goto(f"{live_server.url}/wallet/{dog.pk}/show/")
        problems[(care, "present")] = axe_violations(page)
        page.get_by_role("button", name="生成二维码").click()
        page.wait_for_load_state()
        assert page.locator("main svg[role=img]").count() == 1
        problems[(care, "qr")] = axe_violations(page)
        page.goto(f"{live_server.url}/cases/draft-{holding['case'].pk}/edit/")
        problems[(care, "form")] = axe_violations(page)
    p = presentations.presentation_create(licence=dog, disclose=["owner"], actor=citizen)
    page.goto(f"{live_server.url}/p/{p.token}")
    problems["link"] = axe_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.parametrize("care", [False, True])
def test_the_qr_page_fits_a_phone_and_the_wallet_reads_at_390_px(
    browser, live_server, citizen, holding, care
):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    tab = context.new_page()
    try:
        _signed_in(tab, live_server, citizen)
        if care:
            tab.goto(live_server.url + "/wallet/")
            tab.locator("header").get_by_role("button", name="菜单").click()  # folded on a phone
            tab.locator("header form[action='/preferences/care-mode'] button").click()
            tab.wait_for_load_state()
        link = presentations.presentation_create(licence=holding["dog"], disclose=["owner"], actor=citizen)
        problems = {}
        for path in (
            "/wallet/",
            f"/wallet/{holding['dog'].pk}/",
            f"/wallet/{holding['dog'].pk}/show/",
            f"/p/{link.token}",
        ):
            tab.goto(live_server.url + path)
            assert tab.evaluate("document.documentElement.classList.contains('care')") == care
            found = axe_violations(tab)
            if tab.evaluate("document.scrollingElement.scrollWidth") > 390:
                found.append("wider than 390 px")
            if found:
                problems[path] = found
        assert problems == {}
        tab.goto(f"{live_server.url}/wallet/{holding['dog'].pk}/show/")
        tab.get_by_role("button", name="生成二维码").click()
        tab.wait_for_load_state()
        box = tab.locator("main svg[role=img]").bounding_box()
        assert box is not None and 200 <= box["width"] <= 390
        assert tab.evaluate("document.scrollingElement.scrollWidth") <= 390
        assert axe_violations(tab) == []
    finally:
        context.close()


@pytest.mark.parametrize(
    ("locale", "labels", "other"),
    [
        ("zh-CN", ["犬主姓名", "犬只信息", "养犬地址"], "Owner"),
        ("en-GB", ["Owner", "The dog", "Where the dog is kept"], "犬主姓名"),
    ],
)
def test_the_wallet_licence_names_its_claims_in_the_readers_language(
    browser, live_server, citizen, holding, locale, labels, other
):
    language = locale.split("-")[0]
    context = browser.new_context(
        locale=locale, extra_http_headers={"Accept-Language": f"{locale},{language};q=0.9"}
    )
    tab = context.new_page()
    try:
        _signed_in(tab, live_server, citizen)
        tab.goto(f"{live_server.url}/wallet/{holding['dog'].pk}/")
        terms = tab.locator("main dl[aria-labelledby=claims-title] dt").all_inner_texts()
        assert set(labels) <= set(terms), terms
        assert other not in terms
        assert axe_violations(tab) == []
    finally:
        context.close()


def test_licence_use_on_the_form_and_the_officials_view_pass_axe(
    live_server, page, citizen, holding, department_x
):
    case, material = holding["case"], holding["material"]
    _signed_in(page, live_server, citizen)
    page.goto(f"{live_server.url}/cases/draft-{case.pk}/edit/")
    page.locator(f"#consent-{material.pk}").check()
    page.get_by_role("button", name="使用此证照").click()
    page.wait_for_load_state()
    assert "已由您的电子证照" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    case = case_services.case_submit(actor=citizen, case=case)
    assert licence_materials.for_officials(case).rows[0].verdict == "valid"
    clerk = make_official("clerk_browser", department_x, [Role.CLERK])
    _signed_in(page, live_server, clerk)
    page.goto(f"{live_server.url}/workbench/tasks/{open_task(case).pk}/")
    assert holding["business"].number in page.locator("main").inner_text()
    assert axe_violations(page) == []
