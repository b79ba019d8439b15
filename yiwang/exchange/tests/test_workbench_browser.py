"""The exchange's workbench pages (/workbench/data/) and the gateway's (/workbench/data/gateway/)
in Chromium on the demo data, as the demo's data steward (周数据 of 陕西省数据和政务服务局,
610000-SJJ) and as officials of department X (610100-SCJG): every page, and the pages its forms
answer with (a form's errors, the cells of a broken upload, a new API key shown once), has one
h1 and passes axe in normal and large-text mode, in zh-Hans and in English, and fits a 390 px
phone (``browser_pages.Walk``). One demo build and one test, so the live server's database is
set up once.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yiwang.core.tests.browser_pages import Walk, report
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 — a fixture

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
BROKEN_ROWS = (
    "case_no,department,level,rated_on,phone\n"
    "6101002026999001,西安市市场监督管理局,满意,2026-13-45,13820000001\n"
    ",西安市市场监督管理局,满意,2026-01-02,13820000002\n"
)


@pytest.fixture
def exchange_site(settings, tmp_path):
    """The identity, exchange and data-use demos; department X granted 电子证照目录信息 (B01001,
    unconditional) and one call on it, so the steward has a grant to revoke and a use to read."""
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    from yiwang.exchange import demo, gateway, services, tracker_demo
    from yiwang.exchange.models import AccessRequest, Channel, DataDemand, DataResource, InformationSystem
    from yiwang.identity import demo as identity_demo
    from yiwang.identity.models import Department, User

    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        demo.build("small")
        tracker_demo.build()
    users = {u.username: u for u in User.objects.filter(username__in=["steward", "clerk"])}
    x = Department.objects.get(code=demo.X)
    b01001 = DataResource.objects.get(code="B01001")
    granted = services.access_request(
        actor=users["clerk"],
        resource=b01001,
        consumer=x,
        fields=["licence_type", "name", "issued"],
        purpose="电子证照应用情况统计",
        valid_until=timezone.localdate() + dt.timedelta(days=90),
    )
    gateway.query(
        consumer=x,
        resource_code="B01001",
        fields=None,
        filters={},
        purpose="电子证照应用情况统计",
        channel=Channel.PLATFORM,
        actor=users["clerk"],
    )
    pending = AccessRequest.objects.get(resource__code="B01002", consumer=x, state="pending")
    return {
        **users,
        "pending": pending.pk,
        "grant": granted.grant.pk,
        "system": InformationSystem.objects.get(code="610000-SJJ-HCP01").pk,
        "demand": DataDemand.objects.get(department=x, state="matched").pk,
    }


def _send(page, button: str = "main form[method=post] button[type=submit]") -> None:
    page.locator(button).last.click()


def _request_without_fields(page, language):
    page.locator("textarea[name=purpose], input[name=purpose]").first.fill("核对")
    _send(page)


def _broken_upload(page, language):
    page.locator("input[type=file][name=file]").set_input_files(
        files=[{"name": "ratings.csv", "mimeType": "text/csv", "buffer": BROKEN_ROWS.encode()}]
    )
    _send(page)
    assert page.locator("main table caption").count() == 1  # the cells to fix


def _decide_without_password(page, language):
    page.locator("input[name=decision][value=approve]").check()
    _send(page)


def _revoke_with_a_wrong_password(page, language):
    page.locator("input[name=reason], textarea[name=reason]").first.fill("演示：用途已完成")
    page.locator("input[name=password]").fill("not-the-password")
    _send(page)


def _new_key(page, language):
    page.locator("input[name=name]").fill(f"演示系统 {language}")
    page.locator("input[name=password]").fill("yiwang-demo-2026")
    _send(page, "main form:has(input[name=op][value=create]) button[type=submit]")
    assert page.locator("#new-key").count() == 1  # shown once, on this answer


def test_the_exchange_and_gateway_pages_pass_axe_and_fit_a_phone(
    browser,  # noqa: F811
    live_server,
    exchange_site,
    settings,
):
    """A form's page is checked as its answer with errors (which holds all the blank form
    does); the key page as it shows a new key, with the list of keys. (Each page is checked in
    four modes, so the wrong passwords are more than the re-authentication throttle allows.)"""
    settings.THROTTLES = {**settings.THROTTLES, "reauth-account": (100, 900)}
    ids, problems = exchange_site, {}
    base = live_server.url
    with Walk(browser, base, problems) as walk:
        walk.as_(ids["steward"])
        walk.check("/workbench/data/?q=好差评&share_class=conditional")
        walk.check("/workbench/data/resources/B01002/")
        walk.check("/workbench/data/resources/new/", lambda page, _: _send(page), label="register, errors")
        walk.check("/workbench/data/resources/B01002/edit/")
        walk.check("/workbench/data/resources/B01002/rows/", _broken_upload, label="rows, cell errors")
        walk.check("/workbench/data/resources/B01001/grant/")
        walk.check("/workbench/data/requests/")
        walk.check(
            f"/workbench/data/requests/{ids['pending']}/", _decide_without_password, label="decide, errors"
        )
        walk.check("/workbench/data/grants/")
        walk.check(
            f"/workbench/data/grants/{ids['grant']}/", _revoke_with_a_wrong_password, label="revoke, errors"
        )
        walk.check("/workbench/data/systems/")
        walk.check(f"/workbench/data/systems/{ids['system']}/")
        walk.check("/workbench/data/demands/")
        walk.check(f"/workbench/data/demands/{ids['demand']}/")
        walk.check("/workbench/data/gateway/", _new_key, label="gateway, new key")
        walk.check("/workbench/data/gateway/calls/")
        walk.check("/workbench/data/gateway/uses/")
        walk.as_(ids["clerk"])
        walk.check("/workbench/data/")
        walk.check("/workbench/data/resources/A01001/")
        walk.check(
            "/workbench/data/resources/B01001/request/", _request_without_fields, label="request, errors"
        )
        walk.check(f"/workbench/data/requests/{ids['pending']}/")  # with its withdraw button
    assert problems == {}, report(problems)
